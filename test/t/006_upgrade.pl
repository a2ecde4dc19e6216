# test/t/006_upgrade.pl
#
# Upgrading a database made by release 1.0, as a user would: the 1.0
# library and install script (built from this repository's history into a
# private copy of the PostgreSQL installation by test/tools/release_install.sh)
# make the data through the 1.0 API; then the server is restarted with the
# current library and ALTER EXTENSION profile_ext UPDATE runs.  Afterwards:
# no row is lost or changed, the 1.0 audit chains and seals still verify,
# tokens, passwords and pending mails still work, the new rules hold for new
# writes, and the upgraded schema is the one a new CREATE EXTENSION makes.
#
# PROFILE_EXT_OLD_INSTALL names a prepared 1.0 installation (test/check.sh
# makes one); without it the test makes its own when this is a git
# checkout.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $old = $ENV{PROFILE_EXT_OLD_INSTALL};
if (!$old)
{
	my $top = $ENV{TESTDIR};
	if (-e "$top/.git")
	{
		$old = `bash '$top/test/tools/release_install.sh' 1.0 '${PostgreSQL::Test::Utils::tmp_check}/release-1.0'`;
		chomp $old;
	}
	plan skip_all => 'SKIPPED: no 1.0 installation (set PROFILE_EXT_OLD_INSTALL, or run from a git checkout)'
	  unless $old && -x "$old/bin/postgres";
}
my $current = `pg_config --bindir`;
chomp $current;
$current =~ s{/bin$}{};

my $node = PostgreSQL::Test::Cluster->new('upgrade', install_path => $old);
$node->init;
$node->append_conf('postgresql.conf', qq{
log_statement = none
shared_preload_libraries = 'profile_ext'
});
$node->start;

# 1.0's data, made through 1.0's API
$node->safe_psql('postgres', q{
	CREATE EXTENSION profile_ext;
	ALTER DATABASE postgres SET profile_ext.password_memlimit = '64kB';
});
is($node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'profile_ext'}),
	'1.0', 'release 1.0 is installed');
$node->safe_psql('postgres', q{
	SELECT profile.create_tenant('acme', '{"complete_fields": ["full_name"], "incomplete_profiles": true,
		"wizard_url": "https://acme.example/onboard/{id}"}');
	SELECT profile.create_tenant('verifying', '{"verification": true, "required_contract": null}');
	SELECT profile.create_client('shop');
	SELECT profile.grant_contract('shop', 'create_customer_api');
	CREATE ROLE mailer LOGIN;
	SELECT profile.grant_admin('mailer');
	CREATE ROLE web;
	SELECT profile.grant_api('web');
});
my $token = $node->safe_psql('postgres', q{SELECT profile.issue_access_token('shop', '{acme}')});
my $p1 = $node->safe_psql('postgres', qq{SELECT profile.create_profile('{"accessTokenId": "$token",
	"username": "john.doe", "password": "passw0rd", "email": "john\@example.com", "full_name": "John",
	"roles": ["member"], "attributes": {"a": 1}}')->>'id'});
my $p2 = $node->safe_psql('postgres', qq{SELECT profile.create_profile('{"accessTokenId": "$token",
	"email": "jane\@example.com", "mobile_phone_number": "+358 40 765 4321"}')->>'id'});
$node->safe_psql('postgres', qq{SELECT profile.update_profile('$p2', '{"accessTokenId": "$token", "full_name": "Jane"}')});
$node->safe_psql('postgres', qq{SELECT profile.register_user_profile('c908bc7c-9917-48fd-b862-d901a0880fef',
	'{"accessTokenId": "$token", "countryCode": "US", "arid": "0b6d6b3f-5f0c-4b7a-9f5e-6f9d2c1e4a10",
	  "sdkAuditEvents": [{"dateTime": "2020-01-28T13:16:01.714-05:00", "logEvent": "start", "audit": {"x": [1, 2]}},
	                     {"dateTime": "2020-01-28T13:17:01Z", "logEvent": "end"}]}')});
$node->safe_psql('postgres', q{SELECT profile.seal_audit_chain('acme')});
# events after the seal, and a mail 1.0 left pending (its outbox keeps no link)
$node->safe_psql('postgres', qq{SELECT profile.update_profile('$p1', '{"accessTokenId": "$token", "language": "en"}')});
my $pv = $node->safe_psql('postgres', q{SELECT profile.create_profile('{"tenantName": "verifying",
	"email": "pending@example.com", "verificationUrl": "https://app.example/verify"}')->>'id'});
# a profile 1.0 deleted: its events stay, and so must its id
my $pd = $node->safe_psql('postgres', qq{SELECT profile.create_profile('{"accessTokenId": "$token",
	"email": "gone\@example.com"}')->>'id'});
$node->safe_psql('postgres', qq{DELETE FROM profile_data.profiles WHERE id = '$pd'});

my $snapshot = q{
	SELECT (SELECT md5(string_agg(x::text, '|' ORDER BY x.id))
			  FROM (SELECT id, tenant_id, state, username, password_hash, email, mobile_phone_number, country_code,
						   full_name, language, enabled, verified, roles, attributes, created_at, updated_at
					  FROM profile_data.profiles) x) || ' ' ||
		   (SELECT md5(string_agg(e::text, '|' ORDER BY e.id))
			  FROM (SELECT id, tenant_id, recorded_at, occurred_at, profile_id, client, source, event,
						   session_id, transaction_group_id, trace_id, data, chain_seq, prev_hash, hash
					  FROM profile_data.audit_events) e) || ' ' ||
		   (SELECT md5(string_agg(s::text, '|' ORDER BY s.tenant_id, s.seal_seq)) FROM profile_data.audit_seals s) || ' ' ||
		   (SELECT md5(string_agg(t::text, '|' ORDER BY t.id))
			  FROM (SELECT id, name, settings - '{verification_url,username_uniqueness,phone_types,idempotency_ttl}'::text[], created_at, updated_at
					  FROM profile_data.tenants) t) || ' ' ||
		   (SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM profile_data.access_tokens t) || ' ' ||
		   (SELECT count(*) FROM profile_data.verification_outbox)
};
# identities 1.0 let in twice, in a Turkish database (ICU tr-TR, where
# lower('I') is a dotless i): case, sharp s, NFC/NFD, an invisible
# character, a mix of scripts, emails, and one id in two tenants
$node->safe_psql('postgres', q{CREATE DATABASE turkish TEMPLATE template0 ENCODING 'UTF8'
	LOCALE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR'});
$node->safe_psql('turkish', q{
	CREATE EXTENSION profile_ext;
	SELECT profile.create_tenant('tr', '{"required_contract": null}');
	SELECT profile.create_tenant('tr2', '{"required_contract": null}');
});
my @turkish = (
	[ 'ADMIN_1', 'admin1@example.com' ],
	[ 'admin_1', 'admin2@example.com' ],
	[ 'STRASSE_1', 'strasse1@example.com' ],
	[ "stra\x{df}e_1", 'strasse2@example.com' ],
	# the NFD one collides twice: username and phone
	[ "jos\x{e9}_1", 'jose1@example.com', '+49 40 1234567' ],
	[ "jose\x{301}_1", 'jose2@example.com', '+49 (0)40 1234567' ],
	[ "mal\x{200b}lory_1", 'mallory1@example.com' ],
	[ 'mallory_1', 'mallory2@example.com' ],
	[ "p\x{430}ypal_1", 'paypal@example.com' ],
	[ 'irmak_1', 'IRMAK@EXAMPLE.COM' ],
	[ 'irmak_2', 'irmak@example.com' ],
	[ 'unique_1', 'unique@example.com' ],
	# a trunk prefix 1.0 kept, the same number without it, a number of a
	# possible length that is not valid
	[ 'phone_1', 'phone1@example.com', '+49 (0)30 1234567' ],
	[ 'phone_2', 'phone2@example.com', '+49 30 1234567' ],
	[ 'phone_3', 'phone3@example.com', '+1 212 111 0123' ]);
foreach my $p (@turkish)
{
	my ($u, $e, $phone) = @$p;
	utf8::encode($u);
	$phone = $phone ? "'$phone'" : 'NULL';
	$node->safe_psql('turkish', qq{SELECT profile.create_profile(jsonb_strip_nulls(jsonb_build_object('tenantName', 'tr',
		'username', '$u', 'email', '$e', 'mobile_phone_number', $phone)))});
}
$node->safe_psql('turkish', q{
	INSERT INTO profile_data.profiles (tenant_id, id, email)
	SELECT (SELECT id FROM profile_data.tenants WHERE name = 'tr2'), id, 'same-id@example.com'
	  FROM profile_data.profiles WHERE username = 'unique_1';
});
is($node->safe_psql('turkish', q{SELECT count(*) FROM profile_data.profiles}), '16',
	'1.0 stored every one of them');
my $turkish_snapshot = q{SELECT md5(string_agg(p::text, '|' ORDER BY p.tenant_id, p.id))
	FROM (SELECT tenant_id, id, username, email, mobile_phone_number, created_at, updated_at FROM profile_data.profiles) p};
my $turkish_before = $node->safe_psql('turkish', $turkish_snapshot);

my $before = $node->safe_psql('postgres', $snapshot);
my $chains_before = $node->safe_psql('postgres', q{SELECT profile.verify_audit_chain('acme')});
like($chains_before, qr/"ok": true/, '1.0 chains verify under 1.0');
$node->stop;

# the current library, then the update
$node->{_install_path} = $current;
$node->start;
my ($ret, $out, $err) = $node->psql('postgres', qq{SELECT profile.update_profile('$p1',
	'{"accessTokenId": "$token", "full_name": "Before"}')});
like($err, qr/profile_ext 1.0 is installed in this database, but the loaded library is version 1.1.*\n.*HINT:  Run ALTER EXTENSION profile_ext UPDATE/,
	'before the update, the new library refuses to work on the old schema, and says what to do');
$node->safe_psql('postgres', 'ALTER EXTENSION profile_ext UPDATE');
is($node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'profile_ext'}),
	'1.1', 'the extension is at 1.1');

# no row lost or changed
is($node->safe_psql('postgres', $snapshot), $before, 'profiles, events, seals, tenants (but for the new settings keys), tokens and mails are as they were');
my $chains_after = $node->safe_psql('postgres', q{SELECT profile.verify_audit_chain('acme')});
$chains_before =~ s/("seals": \d+, )/$1"erased": 0, /;
is($chains_after, $chains_before, 'the 1.0 chains and seals still verify, with the same counts (none erased)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_constraint
	WHERE connamespace = 'profile_data'::regnamespace AND NOT convalidated}), '0',
	'every new constraint was validated');

# the Turkish database: every row kept, the collisions listed
my $warning;
$node->psql('turkish', 'ALTER EXTENSION profile_ext UPDATE', stderr => \$warning, on_error_die => 1);
like($warning, qr/WARNING:  profile_ext 1.1: 16 existing profiles break a 1.1 identity rule or collide under the 1.1 keys/,
	'the update says how many profiles break a 1.1 rule or collide');
like($warning, qr/DETAIL:  They are listed in the view profile.identity_conflicts and keep working./,
	'and where they are listed');
is($node->safe_psql('turkish', $turkish_snapshot), $turkish_before, 'no row of the Turkish database lost or changed');
my $conflicts = q{
	SELECT string_agg(format('%s %s %s: %s', tenant, field, rule,
		   (SELECT string_agg(coalesce(p.username, p.email), ' ' ORDER BY o)
			  FROM unnest(c.profile_ids) WITH ORDINALITY AS u(id, o)
			  JOIN profile_data.profiles p ON p.id = u.id AND p.tenant_id = (SELECT id FROM profile_data.tenants WHERE name = c.tenant))),
		   E'\n' ORDER BY tenant, field, rule, value COLLATE "C")
	  FROM profile.identity_conflicts c};
my $listed = $node->safe_psql('turkish', $conflicts);
utf8::decode($listed);
is($listed, join("\n",
	"tr email unique: irmak_1 irmak_2",
	"tr id unique: unique_1",
	"tr mobile_phone_number canonical: phone_1",
	"tr mobile_phone_number canonical: jose\x{301}_1",
	"tr mobile_phone_number invalid: phone_3",
	"tr mobile_phone_number unique: phone_1 phone_2",
	"tr mobile_phone_number unique: jos\x{e9}_1 jose\x{301}_1",
	"tr username format: mal\x{200b}lory_1",
	"tr username mixed_script: p\x{430}ypal_1",
	"tr username nfc: jose\x{301}_1",
	"tr username unique: ADMIN_1 admin_1",
	"tr username unique: jos\x{e9}_1 jose\x{301}_1",
	"tr username unique: mal\x{200b}lory_1 mallory_1",
	"tr username unique: STRASSE_1 stra\x{df}e_1",
	"tr2 id unique: same-id\@example.com"),
	'profile.identity_conflicts lists each rule broken and each collision, oldest first');

# listed rows keep working; the first of a group keeps the key
is($node->safe_psql('turkish', q{SELECT profile.update_profile(id, '{"tenantName": "tr", "full_name": "Second Admin"}')->>'full_name'
	FROM profile_data.profiles WHERE username = 'admin_1'}), 'Second Admin', 'a listed profile can be updated');
my ($r2, $o2, $e2) = $node->psql('turkish', q{SELECT profile.create_profile('{"tenantName": "tr", "username": "Admin_1", "email": "a3@example.com"}')});
like($e2, qr/a profile with this username already exists/, 'a new profile cannot take the name of a group');

# the admin resolves: renaming one, deleting the other of a pair; the
# survivor takes its key at its next write
$node->safe_psql('turkish', q{SELECT profile.update_profile(id, '{"tenantName": "tr", "username": "admin_1b"}')
	FROM profile_data.profiles WHERE username = 'admin_1'});
$node->safe_psql('turkish', q{DELETE FROM profile_data.profiles WHERE username = 'STRASSE_1'});
$node->safe_psql('turkish', qq{UPDATE profile_data.profiles SET username = username WHERE username = 'stra\xc3\x9fe_1'});
$listed = $node->safe_psql('turkish', $conflicts);
utf8::decode($listed);
unlike($listed, qr/ADMIN_1|STRASSE_1/, 'resolved groups leave the view');
is($node->safe_psql('turkish', qq{SELECT username_key FROM profile_data.profiles WHERE username = 'stra\xc3\x9fe_1'}),
	'strasse_1', 'the survivor of a group got its key');
# a switch to confusable usernames leaves the rows still listed out (they
# hold no key, so no skeleton either)
is($node->safe_psql('turkish', q{SELECT profile.alter_tenant('tr', '{"username_uniqueness": "confusable"}')->'settings'->>'username_uniqueness'}),
	'confusable', 'a tenant with listed rows switches to confusable usernames');
is($node->safe_psql('turkish', q{SELECT count(*) FILTER (WHERE username_key IS NULL AND username_skeleton IS NOT NULL)
	|| ' ' || count(*) FILTER (WHERE username_key IS NOT NULL AND username_shape IS NULL)
	FROM profile_data.profiles p JOIN profile_data.tenants t ON t.id = p.tenant_id WHERE t.name = 'tr' AND username IS NOT NULL}),
	'0 0', 'keyed usernames got their skeletons, listed ones none');

# what 1.0 made still works
is($node->safe_psql('postgres', qq{SELECT profile.update_profile('$p1',
	'{"accessTokenId": "$token", "full_name": "John D"}')->>'full_name'}), 'John D', 'the 1.0 token works');
like($node->safe_psql('postgres', qq{SELECT password_hash FROM profile_data.profiles WHERE id = '$p1'}),
	qr/^\$argon2id\$/, 'the 1.0 password hash is kept');
my $mail = $node->safe_psql('postgres', q{SELECT m FROM profile.claim_verification_mails() m},
	extra_params => [ '-U', 'mailer' ]);
like($mail, qr/"url": "https:\/\/app\.example\/verify\?token=pv_[A-Za-z0-9_-]{43}"/,
	'a mail 1.0 left pending gets a link when claimed (by a role granted admin under 1.0)');
my ($vtoken) = $mail =~ /token=(pv_[A-Za-z0-9_-]{43})/;
is($node->safe_psql('postgres', qq{SELECT profile.verify_profile('$vtoken')->>'verified'}), 'true',
	'and the link verifies the profile');
is($node->safe_psql('postgres', q{SELECT profile.seal_audit_chain('acme')->>'sealed'}), 'true',
	'a new seal continues the 1.0 seals');
like($node->safe_psql('postgres', q{SELECT profile.verify_audit_chain('acme')}), qr/"ok": true/,
	'and the chains, old and new events together, verify');

# the new rules hold for new writes
($ret, $out, $err) = $node->psql('postgres', qq{SELECT profile.create_profile('{"accessTokenId": "$token",
	"email": "new\@example.com", "verificationUrl": ""}')});
like($err, qr/invalid value for field "verificationUrl"/, 'new writes meet the 1.1 rules');
# the id of the profile 1.0 deleted stays taken, in its tenant and in any other
($ret, $out, $err) = $node->psql('postgres', qq{SELECT profile.register_user_profile('$pd',
	'{"accessTokenId": "$token", "countryCode": "US"}')});
like($err, qr/a profile with this id already exists/, 'the id of a profile 1.0 deleted is taken in its tenant');
($ret, $out, $err) = $node->psql('postgres', qq{SELECT profile.register_user_profile('$pd',
	'{"tenantName": "verifying", "countryCode": "US"}')});
like($err, qr/a profile with this id already exists/, 'and in another tenant');
like($node->safe_psql('postgres', q{SELECT settings FROM profile_data.tenants WHERE name = 'acme'}),
	qr/"verification_url": null/, 'stored settings have the new keys');

# erasing a profile whose chain began under 1.0: its 1.0 events (version 1
# hashes, no salt) and its 1.1 events lose their content; the chain and
# the seals still verify, and the erased 1.0 events' kept fields stay
# covered by the profile.erased event's digest
my $events_p1 = $node->safe_psql('postgres', qq{SELECT count(*) FROM profile_data.audit_events WHERE profile_id = '$p1'});
like($node->safe_psql('postgres', qq{SELECT profile.erase_profile('$p1')}),
	qr/"erased": true,.*"events_erased": $events_p1\b/, 'a profile made by 1.0 is erased, with every one of its events');
like($node->safe_psql('postgres', q{SELECT profile.verify_audit_chain('acme')}),
	qr/"ok": true.*"erased": $events_p1/, 'the chains and seals of its tenant still verify, counting the erased events');
like($node->safe_psql('postgres', qq{SELECT data FROM profile_data.audit_events WHERE profile_id = '$p1' AND event = 'profile.erased'}),
	qr/"erased_v1_digest": "[0-9a-f]{64}"/, 'the erasure record holds the digest of the erased 1.0 events');
is($node->safe_psql('postgres', q{SELECT count(*) FROM profile_data.audit_events e
	WHERE e::text ~* 'john|passw0rd|argon2' OR e.data::text ~* 'john'}), '0', 'nothing of the profile is left in its events');
like($node->safe_psql('postgres', qq{
	ALTER TABLE profile_data.audit_events DISABLE TRIGGER append_only;
	UPDATE profile_data.audit_events SET client = 'forged' WHERE profile_id = '$p1' AND chain_seq = 1;
	SELECT profile.verify_audit_chain('acme');
	ROLLBACK;}, extra_params => [ '--single-transaction' ]),
	qr/an erased 1.0 event's kept fields or hash changed after its erasure/,
	'a kept field of an erased 1.0 event changed later is caught');

# the upgraded schema is the one CREATE EXTENSION makes
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION profile_ext');
my $schema = q{
	SELECT string_agg(d, E'\n' ORDER BY d) FROM (
		SELECT 'column ' || attrelid::regclass || '.' || attname || ' ' || format_type(atttypid, atttypmod)
			   || CASE WHEN attnotnull THEN ' not null' ELSE '' END AS d
		  FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped
		   AND attrelid IN (SELECT oid FROM pg_class WHERE relnamespace IN ('profile'::regnamespace, 'profile_data'::regnamespace))
		UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid)
		  FROM pg_constraint WHERE connamespace = 'profile_data'::regnamespace
		UNION ALL SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index
		 WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'profile_data'::regnamespace)
		UNION ALL SELECT 'function ' || p.oid::regprocedure || ' ' || p.provolatile::text || p.prosecdef::text || coalesce(p.proconfig::text, '')
			   || ' ' || coalesce(obj_description(p.oid, 'pg_proc'), '')
		  FROM pg_proc p WHERE pronamespace IN ('profile'::regnamespace, 'profile_data'::regnamespace)
		UNION ALL SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger
		 WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'profile_data'::regnamespace)
		UNION ALL SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid) FROM pg_class c
		 WHERE c.relkind = 'v' AND c.relnamespace = 'profile'::regnamespace
		UNION ALL SELECT 'config ' || unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'profile_ext'
	) s
};
is($node->safe_psql('postgres', $schema), $node->safe_psql('fresh', $schema),
	'the upgraded schema equals a new installation of 1.1');

$node->stop;
done_testing();
