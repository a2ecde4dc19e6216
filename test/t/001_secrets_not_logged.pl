# test/t/001_secrets_not_logged.pl
#
# Passwords and access tokens never reach the server log: every error an
# API call raises -- profile_ext's own, or one PostgreSQL raises underneath
# -- is logged without the statement that carried the secret.  A control
# statement shows that log_min_error_statement does log statements here,
# so the test could fail.  Also: the caches start cold after a restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('secrets');
$node->init;
# PostgreSQL::Test::Cluster turns on log_statement = all; the server's
# default (none) is what a production server runs with.
$node->append_conf('postgresql.conf', qq{
log_statement = none
shared_preload_libraries = 'profile_ext'
log_min_error_statement = error
profile_ext.password_memlimit = '64kB'
profile_ext.password_opslimit = 1
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION profile_ext;
	SELECT profile.create_tenant('t', '{"required_contract": null}');
	SELECT profile.create_client('c');
});
my $token = $node->safe_psql('postgres', q{SELECT profile.issue_access_token('c', '{t}')});
like($token, qr/^pe_[A-Za-z0-9_-]{43}$/, 'token issued');

my $pw = 'Sup3r-Secret-Passw0rd';
my $start = -s $node->logfile;

# profile_ext's own errors
my @bad = (
	qq{SELECT profile.create_profile('{"accessTokenId": "$token", "email": "nope", "password": "$pw"}')},
	qq{SELECT profile.create_profile('[{"password": "$pw"}]')},
	qq{SELECT profile.create_profile('{"accessTokenId": "${token}x", "password": "$pw"}')},
	qq{SELECT profile.revoke_access_token('${token}x')},
);
# PostgreSQL's own error underneath: a write in a read-only transaction
push @bad, qq{BEGIN READ ONLY; SELECT profile.create_profile('{"accessTokenId": "$token", "email": "ro\@example.com", "password": "$pw"}')};
# a duplicate
$node->safe_psql('postgres',
	qq{SELECT profile.create_profile('{"accessTokenId": "$token", "email": "dup\@example.com", "password": "$pw"}')});
push @bad, qq{SELECT profile.create_profile('{"accessTokenId": "$token", "email": "dup\@example.com", "password": "$pw"}')};

for my $sql (@bad)
{
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	isnt($ret, 0, 'call fails: ' . substr($err, 0, 60));
}
# control: an ordinary failing statement is logged with its text
$node->psql('postgres', q{SELECT 1/0 AS control_marker});

my $log = slurp_file($node->logfile, $start);
like($log, qr/STATEMENT:\s+SELECT 1\/0 AS control_marker/, 'failing statements are logged here');
like($log, qr/read-only transaction/, 'the read-only error was logged');
unlike($log, qr/\Q$pw\E/, 'no password in the server log');
unlike($log, qr/\Q$token\E/, 'no access token in the server log');

# after a restart the caches are rebuilt from the tables
$node->restart;
my $res = $node->safe_psql('postgres',
	qq{SELECT profile.create_profile('{"accessTokenId": "$token", "email": "after\@example.com"}')->>'tenant'});
is($res, 't', 'token, tenant and contract work after a restart');
$node->safe_psql('postgres', qq{SELECT profile.revoke_access_token('$token')});
my ($ret) = $node->psql('postgres',
	qq{SELECT profile.create_profile('{"accessTokenId": "$token", "email": "late\@example.com"}')});
isnt($ret, 0, 'revoked token refused in a new session');

$node->stop;
done_testing();
