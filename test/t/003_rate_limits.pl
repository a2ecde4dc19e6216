# test/t/003_rate_limits.pl
#
# Rate limits are shared by every backend, survive nothing across a
# restart, and need shared_preload_libraries:
#  - two backends hammering one client together never get more calls
#    through than the buckets allow: per_second * (1 + T) in T seconds;
#  - after a restart the limits start clean;
#  - without the preload, API calls fail with a clear error and hint.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('limits');
$node->init;
$node->append_conf('postgresql.conf', qq{
log_statement = none
shared_preload_libraries = 'profile_ext'
max_connections = 20
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION profile_ext;
	SELECT profile.create_tenant('t', '{"rate_limit": {"per_second": 20, "per_minute": 0}}');
	SELECT profile.create_client('c');
	SELECT profile.grant_contract('c', 'create_customer_api');
	CREATE SEQUENCE n;
	CREATE FUNCTION attempt(tok text) RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM profile.create_profile(jsonb_build_object('accessTokenId', tok,
			'email', 'u' || nextval('n') || '@example.com'));
		RETURN 'ok';
	EXCEPTION WHEN OTHERS THEN
		RETURN SQLSTATE;
	END $$;
	CREATE TABLE outcomes (sqlstate text);
});
my $token = $node->safe_psql('postgres', q{SELECT profile.issue_access_token('c', '{t}')});

# two clients, each in its own backend, for about two seconds
my $script = $node->basedir . '/hammer.sql';
open my $fh, '>', $script or die;
print $fh "INSERT INTO outcomes SELECT attempt('$token');\n";
close $fh;
my $start = time;
$node->command_ok([ 'pgbench', '-n', '-c', '2', '-j', '2', '-T', '2', '-f', $script, 'postgres' ],
	'two backends hammer the same client');
my $elapsed = time - $start;

my ($ok, $limited, $other) = split /\|/, $node->safe_psql('postgres',
	q{SELECT count(*) FILTER (WHERE sqlstate = 'ok'), count(*) FILTER (WHERE sqlstate = '54000'),
			 count(*) FILTER (WHERE sqlstate NOT IN ('ok', '54000')) FROM outcomes});
my $bound = int(20 * (1 + $elapsed)) + 1;
note("$ok calls went through, $limited were limited, in $elapsed s (bound $bound)");
cmp_ok($ok, '<=', $bound, "no more than per_second * (1 + T) calls went through");
cmp_ok($ok, '>=', 20, 'the burst went through');
cmp_ok($limited, '>', 0, 'the rest were limited');
is($other, 0, 'no other error');
is($node->safe_psql('postgres', q{SELECT count(*) FROM profile_data.profiles}), $ok,
	'every call that went through stored its profile');

# spend the budget, then a restart starts clean
is($node->safe_psql('postgres',
	"SELECT count(*) FILTER (WHERE a = '54000') > 0 FROM (SELECT attempt('$token') a FROM generate_series(1, 30)) s"),
	't', 'the budget is spent');
$node->restart;
is($node->safe_psql('postgres', "SELECT attempt('$token')"), 'ok', 'a restart starts from full buckets');

# one table per database: the callers of one database never take another
# database's slots, and a full table is logged once, not once per call
$node->append_conf('postgresql.conf', qq{
profile_ext.rate_limit_entries = 100
profile_ext.rate_limit_databases = 2
});
$node->restart;
my $setup = q{
	CREATE EXTENSION profile_ext;
	SELECT profile.create_tenant('t', '{"required_contract": null, "rate_limit": {"per_second": 5, "per_minute": 0}}');
	CREATE TABLE tokens AS SELECT i, (profile.create_client('c' || i))->>'name' AS client,
		profile.issue_access_token('c' || i, '{t}') AS token FROM generate_series(1, 120) i;
	CREATE FUNCTION attempt(tok text) RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM profile.create_profile(jsonb_build_object('accessTokenId', tok,
			'email', 'u' || pg_catalog.gen_random_uuid() || '@example.com'));
		RETURN 'ok';
	EXCEPTION WHEN OTHERS THEN
		RETURN SQLSTATE;
	END $$;
};
$node->safe_psql('postgres', "CREATE DATABASE $_") foreach qw(a b c);
$node->safe_psql($_, $setup) foreach qw(a b c);
my $log_offset = -s $node->logfile;
is($node->safe_psql('a', q{SELECT string_agg(DISTINCT attempt(token), ',') FROM tokens WHERE i <= 100}),
	'ok', 'database a: 100 clients fill its table');
is($node->safe_psql('a', q{SELECT string_agg(DISTINCT attempt(token), ',') FROM tokens WHERE i > 100}),
	'54000', 'the next clients of database a are refused');
is($node->safe_psql('b', q{SELECT string_agg(DISTINCT attempt(token), ',') FROM tokens WHERE i <= 100}),
	'ok', 'database b still has all its slots');
is($node->safe_psql('c', q{SELECT string_agg(DISTINCT attempt(token), ',') FROM tokens WHERE i <= 3}),
	'54000', 'a third database waits while both tables are busy');
my $log = substr(slurp_file($node->logfile), $log_offset);
my @full = $log =~ /the rate limit table of this database is full/g;
my @busy = $log =~ /every rate limit table is held by another busy database/g;
is(scalar @full, 1, 'the full table is logged once for 20 refused calls');
is(scalar @busy, 1, 'the busy tables are logged once for 3 refused calls');
unlike($log, qr/WARNING/, 'no WARNING reaches the callers');

# without shared_preload_libraries: a clear error and hint
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	qq{SELECT profile.create_profile('{"accessTokenId": "$token", "email": "x\@example.com"}')});
isnt($ret, 0, 'the call fails without the preload');
like($stderr, qr/profile_ext must be loaded via "shared_preload_libraries"/, 'the error says why');
like($stderr, qr/HINT:  Add profile_ext to shared_preload_libraries/, 'and the hint says what to do');

$node->stop;
done_testing();
