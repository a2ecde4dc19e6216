# test/t/005_dump_restore.pl
#
# pg_dump keeps every row of the extension's tables (they are registered
# with pg_extension_config_dump), and the documented restore -- pre-data,
# then the data with --disable-triggers (the rows were audited when they
# were written; the triggers must not audit them again), then post-data --
# gives back the same profiles, the same audit chains (they verify) and
# working tokens.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', qq{
log_statement = none
shared_preload_libraries = 'profile_ext'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION profile_ext;
	SELECT profile.create_tenant('t', '{"complete_fields": ["full_name"], "incomplete_profiles": true,
		"wizard_url": "https://w.example/{id}"}');
	SELECT profile.create_client('c');
	SELECT profile.grant_contract('c', 'create_customer_api');
});
my $token = $node->safe_psql('postgres', q{SELECT profile.issue_access_token('c', '{t}')});
my $id = $node->safe_psql('postgres', qq{
	SELECT profile.create_profile('{"accessTokenId": "$token", "email": "a\@example.com"}')->>'id'});
$node->safe_psql('postgres', qq{
	SELECT profile.update_profile('$id', '{"accessTokenId": "$token", "full_name": "A"}');
	SELECT profile.register_user_profile('00000000-0000-4000-8000-000000000001',
		'{"accessTokenId": "$token", "countryCode": "FI",
		  "sdkAuditEvents": [{"dateTime": "2020-01-28T13:16:01.714-05:00"}]}');
	SELECT profile.seal_audit_chain('t');
});

my $state = q{SELECT (SELECT count(*) FROM profile_data.profiles) || '/' ||
	(SELECT count(*) FROM profile_data.audit_events) || '/' ||
	(SELECT count(*) FROM profile_data.audit_seals) || '/' ||
	(SELECT string_agg(encode(hash, 'hex'), ',' ORDER BY id) FROM profile_data.audit_events)};
my $before = $node->safe_psql('postgres', $state);

my $dump = $node->basedir . '/all.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
my $to = $node->connstr('restored');
$node->command_ok([ 'pg_restore', '--section=pre-data', '-d', $to, $dump ], 'restore: pre-data');
$node->command_ok([ 'pg_restore', '--data-only', '--disable-triggers', '-d', $to, $dump ],
	'restore: data, triggers disabled');
$node->command_ok([ 'pg_restore', '--section=post-data', '-d', $to, $dump ], 'restore: post-data');

is($node->safe_psql('restored', $state), $before, 'the same profiles, events, seals and hashes');
is($node->safe_psql('restored', q{SELECT profile.verify_audit_chain('t')->>'ok'}), 'true',
	'the restored chains and seals verify');
is($node->safe_psql('restored', qq{
	SELECT profile.create_profile('{"accessTokenId": "$token", "email": "b\@example.com", "full_name": "B"}')->>'state'}),
	'complete', 'the restored token, tenant and contract work');
is($node->safe_psql('restored', qq{
	SELECT profile.update_profile('$id', '{"accessTokenId": "$token", "language": "fi"}')->>'language'}),
	'fi', 'restored profiles can be changed');
is($node->safe_psql('restored', q{SELECT profile.verify_audit_chain('t')->>'ok'}), 'true',
	'new events continue the restored chains');

$node->stop;
done_testing();
