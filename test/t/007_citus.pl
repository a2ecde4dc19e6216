# test/t/007_citus.pl
#
# profile_ext distributed by tenant on Citus (README, "Scaling out with
# Citus"): a coordinator and two workers, profile.distribute(), and every
# function called through the coordinator.
#  - the PostgREST replay (test/postgrest_replay.py): each seed example and
#    each error code, with PostgREST's status mapping;
#  - pg_regress files run through the coordinator give their expected
#    output byte for byte: results, errors and audit events as on one node;
#  - what only a cluster shows: the shards on both workers, audit events
#    with the calling client and trace id whichever node records them,
#    chains that verify per tenant, audit ids unique across nodes, ids
#    unique across tenants, a direct INSERT validated and audited, a
#    disabled tenant refused in sessions already open, erasure.
#
# It uses the Citus installed for this PostgreSQL.  Where there is none,
# test/check.sh (as root) builds one from the source tarball that
# CITUS_TARBALL names; without either this test says it is skipped.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pg_config = $ENV{PG_CONFIG} // 'pg_config';
my $libdir = `$pg_config --pkglibdir`;
chomp $libdir;
if (!-f "$libdir/citus.so")
{
	diag('*' x 72);
	diag("SKIPPED: no Citus in $libdir (set CITUS_TARBALL and run test/check.sh as root)");
	diag('*' x 72);
	plan skip_all => "Citus is not installed in $libdir";
}

# the settings pg_regress gives its sessions, on every node: Citus runs
# parts of a statement on the workers, under the workers' settings
my @nodes;
for my $name (qw(coordinator worker1 worker2))
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'citus,profile_ext'
max_connections = 80
max_prepared_transactions = 40
fsync = off
log_statement = none
citus.node_conninfo = 'sslmode=disable'
datestyle = 'Postgres, MDY'
intervalstyle = 'postgres_verbose'
timezone = 'PST8PDT'
lc_messages = 'C'
profile_ext.password_memlimit = '64kB'
profile_ext.password_opslimit = 1
# the regress files create triggers of their own; Citus wants this for them
citus.enable_unsafe_triggers = on
});
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	push @nodes, $node;
}
my ($coord, @workers) = @nodes;
$coord->safe_psql('postgres',
	"SELECT citus_set_coordinator_host('" . $coord->host . "', " . $coord->port . ")");
$coord->safe_psql('postgres',
	"SELECT citus_add_node('" . $_->host . "', " . $_->port . ")")
  for @workers;
is($coord->safe_psql('postgres', 'SELECT count(*) FROM citus_get_active_worker_nodes()'),
	'2', 'a coordinator and two workers');

# what distribute() asks for
$coord->safe_psql('postgres', 'CREATE EXTENSION profile_ext');
my ($ret, $out, $err) = $workers[0]->psql('postgres', 'SELECT profile.distribute()');
like($err, qr/must run on the Citus coordinator/, 'distribute() refuses to run on a worker');

my $report = $coord->safe_psql('postgres', q{
	SELECT r->'distributed_tables'->>'profile_data.profiles', r->'distributed_tables'->>'profile_data.profile_ids',
		   jsonb_array_length(r->'reference_tables'), jsonb_array_length(r->'dropped_foreign_keys'),
		   r->>'workers', (r->>'tables_changed')::int > 0
	  FROM profile.distribute() r});
is($report, 'tenant_id|id|5|2|2|t',
	'distribute(): profiles by tenant_id, profile_ids by id, 5 reference tables, 2 foreign keys dropped, 2 workers');
is($coord->safe_psql('postgres', q{SELECT profile.distribute()->>'tables_changed'}), '0',
	'distribute() again changes nothing');
is($coord->safe_psql('postgres', q{
	SELECT count(*) FROM pg_dist_partition
	 WHERE logicalrelid::text LIKE 'profile_data.%' AND colocationid =
		   (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'profile_data.profiles'::regclass)}),
	'8', 'the per-tenant tables are colocated with profiles');
is($coord->safe_psql('postgres', q{
	SELECT string_agg(result, ',' ORDER BY nodeport) FROM run_command_on_workers(
		$$SELECT min_value = ((SELECT groupid::bigint FROM pg_dist_local_group) << 48) + 1
			FROM pg_sequences WHERE schemaname = 'profile_data' AND sequencename = 'audit_event_id_seq'$$)}),
	't,t', "each worker's sequences have a range of their own");

# the PostgREST replay, through the coordinator
$coord->safe_psql('postgres', 'DROP EXTENSION profile_ext CASCADE');
{
	local $ENV{PROFILE_CITUS} = 1;
	my $user = getpwuid($<);
	my ($rout, $rerr);
	my $ran = IPC::Run::run(
		[ '/usr/bin/python3', 'test/postgrest_replay.py', $coord->host, $coord->port, $user,
		  'test/sdk_seed.json' ],
		'>', \$rout, '2>', \$rerr);
	diag($rerr) if $rerr;
	my $checks = 0;
	for my $line (split /\n/, $rout)
	{
		if ($line =~ /^(not ok|ok) \d+ - (.*)$/)
		{
			ok($1 eq 'ok', "PostgREST on Citus: $2");
			$checks++;
		}
	}
	ok($ran, 'the PostgREST replay ran to the end');
	cmp_ok($checks, '>=', 39, 'every PostgREST case was replayed');
}

# pg_regress files through the coordinator: their expected output exactly
# (each starts from a fresh extension, distributed: test/fresh.sql)
for my $file (qw(install admin principal contract fields email phone uniqueness
	register idempotency onboard limits postgrest errors seeds))
{
	my ($fout, $ferr);
	IPC::Run::run(
		[ 'psql', '-X', '-a', '-q', '-h', $coord->host, '-p', $coord->port,
		  '-d', 'postgres', '-v', 'citus=1', '-v', 'HIDE_TABLEAM=on' ],
		'<', "sql/$file.sql", '>&', \$fout);
	$fout .= $ferr // '';
	my $expected = slurp_file("expected/$file.out");
	if ($fout eq $expected)
	{
		pass("sql/$file.sql through the coordinator: the expected output");
	}
	else
	{
		my $got = $coord->basedir . "/$file.out";
		open my $fh, '>', $got or die;
		print $fh $fout;
		close $fh;
		my $diff = `diff expected/$file.out $got | head -40`;
		fail("sql/$file.sql through the coordinator: the expected output");
		diag($diff);
	}
}

# what only a cluster shows
my $setup = q{
	SET client_min_messages = warning;
	DROP EXTENSION IF EXISTS profile_ext CASCADE;
	CREATE EXTENSION profile_ext;
	SELECT profile.distribute();
	SELECT profile.create_client('app');
	SELECT profile.grant_contract('app', 'create_customer_api');
	SELECT profile.create_tenant('t' || g, '{"verification": true, "verification_url": "https://t.example/v"}')
	  FROM generate_series(1, 8) g;
	CREATE TABLE tok AS SELECT 't' || g AS tenant, profile.issue_access_token('app', ARRAY['t' || g]) AS token
	  FROM generate_series(1, 8) g;
	CREATE TABLE calls AS
	SELECT tenant, profile.create_profile(jsonb_build_object('accessTokenId', token, 'tenantName', tenant,
			   'username', 'user.' || tenant, 'email', 'user@' || tenant || '.example', 'password', 'secret-' || tenant)) AS r
	  FROM tok;
};
$coord->safe_psql('postgres', $setup);
my $tok1 = $coord->safe_psql('postgres', q{SELECT token FROM tok WHERE tenant = 't1'});

is($coord->safe_psql('postgres', q{
	SELECT count(DISTINCT p.groupid) FROM pg_dist_placement p
	 WHERE p.shardid IN (SELECT get_shard_id_for_distribution_column('profile_data.profiles', id)
						   FROM profile_data.tenants)}),
	'2', "the tenants' profiles sit on both workers");
is($coord->safe_psql('postgres', q{
	SELECT count(*) FROM calls c JOIN profile_data.audit_events e ON e.profile_id = (c.r->>'id')::uuid
	 WHERE e.event = 'profile.created' AND e.client = 'app' AND e.trace_id = (c.r->>'trace_id')::uuid}),
	'8', 'profile.created, recorded on the workers, has the calling client and trace id');

sub sql { return $coord->safe_psql('postgres', shift) }
my $id1 = sql(q{SELECT r->>'id' FROM calls WHERE tenant = 't1'});

# an update, a registration with the SDK seed's body, a verification, a
# deletion: each event with the call's client and trace id
my $tr = sql(qq{SELECT profile.update_profile('$id1', '{"accessTokenId": "$tok1", "full_name": "One"}')->>'trace_id'});
is(sql(qq{SELECT string_agg(event || ':' || client, ',') FROM profile_data.audit_events
		   WHERE profile_id = '$id1' AND trace_id = '$tr'}),
	'profile.updated:app', 'profile.updated: the client and trace id');

my $seed = slurp_file('test/sdk_seed.json');
my $reg = 'c908bc7c-9917-48fd-b862-d901a0880fef';
$tr = sql(qq{SELECT profile.register_user_profile('$reg',
	\$seed\$$seed\$seed\$::jsonb || '{"accessTokenId": "$tok1", "tenantName": "t1"}')->>'trace_id'});
is(sql(qq{SELECT string_agg(source || ':' || event || ':' || client, ',' ORDER BY chain_seq)
			FROM profile_data.audit_events WHERE profile_id = '$reg' AND trace_id = '$tr'}),
	'db:profile.created:app,sdk:sdk.event:app,sdk:sdk.event:app,db:user_profile.registered:app',
	'register_user_profile: the profile, the SDK events and the registration, one trace id');

my ($mails, $tenants) = split /\|/, sql(q{SELECT count(*), count(DISTINCT m->>'tenant')
	FROM profile.claim_verification_mails(100) m});
is("$mails|$tenants", '8|8', "claim_verification_mails hands out every tenant's mail");
my $token = sql(q{SELECT substring(m->>'url' from 'token=(.*)$') FROM profile.claim_verification_mails(100) m
	WHERE m->>'tenant' = 't2'});
is(sql(qq{SELECT profile.verify_profile('$token')->>'verified'}), 'true', 'verify_profile through the coordinator');
is(sql(q{SELECT e.client FROM profile_data.audit_events e JOIN calls c ON e.profile_id = (c.r->>'id')::uuid
	WHERE c.tenant = 't2' AND e.event = 'profile.verified'}), 'app', 'profile.verified: the client');

my $id4 = sql(q{SELECT r->>'id' FROM calls WHERE tenant = 't4'});
my $tok4 = sql(q{SELECT token FROM tok WHERE tenant = 't4'});
$tr = sql(qq{SELECT profile.delete_profile('$id4', '{"accessTokenId": "$tok4"}')->>'trace_id'});
is(sql(qq{SELECT event || ':' || client FROM profile_data.audit_events WHERE profile_id = '$id4' AND trace_id = '$tr'}),
	'profile.deleted:app', 'profile.deleted: the client and trace id');

# ids unique across tenants, through the API and through a direct INSERT
my $id3 = sql(q{SELECT r->>'id' FROM calls WHERE tenant = 't3'});
($ret, $out, $err) = $coord->psql('postgres', qq{SELECT profile.register_user_profile('$id3',
	\$seed\$$seed\$seed\$::jsonb || '{"accessTokenId": "$tok1", "tenantName": "t1", "userProfileId": "$id3"}')});
like($err, qr/a profile with this id already exists/, "an id another tenant holds: PROFILE_EXISTS");
my $t2 = sql(q{SELECT id FROM profile_data.tenants WHERE name = 't2'});
($ret, $out, $err) = $coord->psql('postgres', qq{INSERT INTO profile_data.profiles (tenant_id, id, email)
	VALUES ($t2, '$id3', 'copy\@t2.example')});
like($err, qr/a profile with this id already exists/, 'a direct INSERT of that id: PROFILE_EXISTS');

# a direct INSERT: checked, normalised and audited as the role's
my $t5 = sql(q{SELECT id FROM profile_data.tenants WHERE name = 't5'});
($ret, $out, $err) = $coord->psql('postgres', qq{INSERT INTO profile_data.profiles (tenant_id, id, email, username)
	VALUES ($t5, gen_random_uuid(), 'not an email', 'x')});
like($err, qr/invalid values for 2 fields/, 'a direct INSERT breaking two rules: VALIDATION_FAILED for both');
($ret, $out, $err) = $coord->psql('postgres', qq{INSERT INTO profile_data.profiles (tenant_id, id, email)
	VALUES ($t5, gen_random_uuid(), 'USER\@t5.example')});
like($err, qr/a profile with this email already exists/, 'a direct INSERT of a taken email: PROFILE_EXISTS');
sql(qq{INSERT INTO profile_data.profiles (tenant_id, id, email, country_code)
	VALUES ($t5, '00000000-0000-4000-8000-0000000000d1', 'Direct\@T5.example', 'de')});
is(sql(q{SELECT p.email || ':' || p.country_code || ':' || e.event || ':' || (e.client = current_user)
	FROM profile_data.profiles p JOIN profile_data.audit_events e ON e.tenant_id = p.tenant_id AND e.profile_id = p.id
	WHERE p.id = '00000000-0000-4000-8000-0000000000d1'}),
	'Direct@t5.example:DE:profile.created:true', 'a direct INSERT: normalised, claimed and audited with the role as client');
is(sql(q{SELECT count(*) FROM profile_data.profile_ids WHERE id = '00000000-0000-4000-8000-0000000000d1'}),
	'1', 'its id is claimed');
($ret, $out, $err) = $coord->psql('postgres', qq{BEGIN;
	INSERT INTO profile_data.profiles (tenant_id, id, email) VALUES ($t5, gen_random_uuid(), 'two\@t5.example');
	SELECT profile.create_tenant('t9');
	COMMIT;});
like($err, qr/cannot commit a direct insert into "profile_data.profiles" on several Citus workers at once/,
	'a direct INSERT in a transaction that writes on several workers is refused at commit');
is(sql(q{SELECT count(*) FROM profile_data.profiles WHERE email = 'two@t5.example'})
	 . sql(q{SELECT count(*) FROM profile_data.tenants WHERE name = 't9'}),
	'00', 'and nothing of it was written');

# a tenant disabled while a session is open: its next call is refused
my $tok6 = sql(q{SELECT token FROM tok WHERE tenant = 't6'});
sql(q{CREATE FUNCTION try_create(tok text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN profile.create_profile(jsonb_build_object('accessTokenId', tok,
		'email', 'more' || pg_catalog.random() || '@t6.example'))->>'tenant';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLERRM;
END $$});
my $session = $coord->background_psql('postgres');
is($session->query_safe("SELECT try_create('$tok6')"), 't6', 'an open session creates profiles');
sql(q{SELECT profile.alter_tenant('t6', '{"enabled": false}')});
is($session->query_safe("SELECT try_create('$tok6')"), 'tenant "t6" is disabled',
	'after the tenant is disabled, the open session is refused');
$session->quit;

# erasure through the coordinator: the chain still verifies
is(sql(qq{SELECT profile.erase_profile('$id1', '{"accessTokenId": "$tok1"}')->>'erased'}), 'true',
	'erase_profile through the coordinator');
is(sql(qq{SELECT count(*) FROM profile_data.audit_events WHERE profile_id = '$id1' AND data IS NOT NULL
	AND event <> 'profile.erased'}), '0', "no event keeps the erased profile's values");

# every tenant's chains verify; audit ids never collide across nodes
is(sql(q{SELECT string_agg(name || ':' || (profile.verify_audit_chain(name)->>'ok'), ',' ORDER BY name)
	FROM profile_data.tenants}),
	join(',', map { "t$_:true" } 1 .. 8), "every tenant's audit chains verify");
is(sql(q{SELECT count(*) = count(DISTINCT id) AND count(*) FILTER (WHERE id > 1::bigint << 48) > 0
	AND count(*) FILTER (WHERE id < 1::bigint << 48) > 0 FROM profile_data.audit_events}),
	't', 'audit event ids from the coordinator and the workers never collide');

$_->stop for @nodes;
done_testing();
