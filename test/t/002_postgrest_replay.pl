# test/t/002_postgrest_replay.pl
#
# A replay of PostgREST's documented behaviour (v12.2.12): for each seed
# example and each error code, test/postgrest_replay.py runs the exact
# transaction PostgREST runs for POST /rpc/<function> -- BEGIN READ WRITE,
# the set_config block with role, request.jwt.claims, request.method,
# request.path and request.headers, the prepared main query, COMMIT or
# ABORT -- and applies PostgREST's SQLSTATE-to-HTTP rules and its
# RAISE SQLSTATE 'PGRST' parsing, then checks status, headers and body.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('postgrest');
$node->init;
$node->append_conf('postgresql.conf', "log_statement = none\nshared_preload_libraries = 'profile_ext'\n");
$node->start;

my $user = getpwuid($<);
my ($out, $err);
my $ok = IPC::Run::run(
	[ '/usr/bin/python3', 'test/postgrest_replay.py', $node->host, $node->port, $user,
	  'test/sdk_seed.json' ],
	'>', \$out, '2>', \$err);
diag($err) if $err;

my $checks = 0;
for my $line (split /\n/, $out)
{
	if ($line =~ /^(not ok|ok) \d+ - (.*)$/)
	{
		ok($1 eq 'ok', $2);
		$checks++;
	}
	elsif ($line =~ /^#/)
	{
		diag($line);
	}
}
ok($ok, 'the replay ran to the end');
cmp_ok($checks, '>=', 39, 'every case was replayed');

$node->stop;
done_testing();
