-- test/demo.sql -- run by test/demo.sh against the demo cluster.
\pset format unaligned
\pset tuples_only on

CREATE EXTENSION profile_ext;

-- show a call's result, or its error as {sqlstate, message, detail}
CREATE SCHEMA demo;
CREATE FUNCTION demo.call(payload jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	RETURN jsonb_pretty(profile.create_profile(payload));
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN 'ERROR ' || st || ': ' || msg || E'\n' || jsonb_pretty(det::jsonb);
END $$;

\echo
\echo '-- admin set-up: tenants, clients, contracts, access tokens'
SELECT jsonb_pretty(profile.create_tenant('sample-tenant'));
SELECT profile.create_tenant('hood')->>'name';
SELECT profile.create_tenant('cms')->>'name';
SELECT profile.create_tenant('ropo', '{"complete_fields": ["full_name", "email", "mobile_phone_number"],
	"incomplete_profiles": true, "wizard_url": "https://one.ropo.example/onboarding/{id}"}')->>'name';
SELECT profile.create_tenant('idp')->>'name';
SELECT profile.create_client(c)->>'name' FROM unnest('{crafter-app,ocamba,cms-app,ropo-partner,sdk-app}'::text[]) c;
\o /dev/null
SELECT profile.grant_contract(c, 'create_customer_api') FROM unnest('{crafter-app,ocamba,cms-app,sdk-app}'::text[]) c;
\o
SELECT profile.issue_access_token('crafter-app', '{sample-tenant}') AS crafter \gset
SELECT profile.issue_access_token('ocamba', '{hood}') AS ocamba \gset
SELECT profile.issue_access_token('cms-app', '{cms}') AS cms \gset
SELECT profile.issue_access_token('ropo-partner', '{ropo}') AS ropo \gset
SELECT profile.issue_access_token('sdk-app', '{idp}') AS sdk \gset
\echo 'issued four access tokens (shown once, stored as SHA-256), e.g. for crafter-app:' :crafter

\echo
\echo '== Crafter Profile (seeds/004): POST /api/1/profile/create, the john.doe example'
SELECT demo.call(jsonb_build_object(
	'accessTokenId', :'crafter', 'tenantName', 'sample-tenant',
	'username', 'john.doe', 'password', 'passw0rd', 'email', 'john.doe@example.com',
	'enabled', 'false', 'attributes', '{"firstName":"John","lastName":"Doe"}',
	'verificationUrl', ''));
\echo '-- the same request again'
SELECT demo.call(jsonb_build_object(
	'accessTokenId', :'crafter', 'tenantName', 'sample-tenant',
	'username', 'john.doe', 'password', 'passw0rd', 'email', 'john.doe@example.com', 'enabled', 'false'));

\echo
\echo '== Ocamba Hood (seeds/003): POST /v1/hood/profiles (with a real address for the hidden one)'
SELECT demo.call(jsonb_build_object('accessTokenId', :'ocamba') ||
	'{"mobile_phone_number": "+49658245684", "email": "john.doe@example.com", "full_name": "John Doe"}');
\echo '-- neither email nor phone'
SELECT demo.call(jsonb_build_object('accessTokenId', :'ocamba') || '{"full_name": "John Doe"}');

\echo
\echo '== CMS Profile resource (seeds/002): the typed field set (plus an email: contact_required)'
SELECT demo.call(jsonb_build_object('accessTokenId', :'cms') || '{
	"login": "jane.cms", "password": "correct horse", "email": "jane@example.com",
	"access_level": 100, "status": "E", "status_comment": "imported",
	"referer": "https://partner.example/", "language": "en", "membership_id": 12,
	"pending_membership_id": null, "force_change_password": true, "role_ids": [1, 2],
	"social_login_provider": "google", "social_login_id": "g-123",
	"ga_client_id": "GA1.2.345.678", "stored_selectors": ["#header"],
	"concierge_user_id": null, "mail_chimp_lists": [10], "mail_chimp_interests": [20],
	"mail_chimp_segments": [], "stripe_customer_id": "cus_ABC"}');
\echo '-- the CMS limits broken: every error at once'
SELECT demo.call(jsonb_build_object('accessTokenId', :'cms') ||
	'{"login": "jd", "password": "short", "email": "j2@example.com", "access_level": 1, "status": "X"}');

\echo
\echo '== Ropo One (seeds/000): POST /profile/createprofile, gated by the create_customer_api contract'
\echo '-- without an active contract'
SELECT demo.call(jsonb_build_object('accessTokenId', :'ropo') ||
	'{"full_name": "Maija Meikäläinen", "email": "maija@example.fi", "mobile_phone_number": "+358 40 123 4567"}');
\o /dev/null
SELECT profile.grant_contract('ropo-partner', 'create_customer_api');
\o
\echo '-- with the contract: a complete profile'
SELECT demo.call(jsonb_build_object('accessTokenId', :'ropo') ||
	'{"full_name": "Maija Meikäläinen", "email": "maija@example.fi", "mobile_phone_number": "+358 40 123 4567"}');
\echo '-- incomplete data: stored as incomplete, with the wizard URL'
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'ropo') || '{"email": "matti@example.fi"}') AS matti \gset
SELECT jsonb_pretty(:'matti'::jsonb);
\echo '-- continuing at the wizard: update_profile with the missing fields'
SELECT jsonb_pretty(profile.update_profile((:'matti'::jsonb->>'id')::uuid, jsonb_build_object('accessTokenId', :'ropo') ||
	'{"full_name": "Matti Meikäläinen", "mobile_phone_number": "+358 40 765 4321"}') - 'attributes' - 'roles');

\echo
\echo '== identity SDK (seeds/001): POST /user-profiles, the example body as written (plus the token)'
\set sdk_seed `cat test/sdk_seed.json`
SELECT jsonb_pretty(profile.register_user_profile('c908bc7c-9917-48fd-b862-d901a0880fef',
	:'sdk_seed'::jsonb || jsonb_build_object('accessTokenId', :'sdk')));
\echo '-- the same id again'
CREATE FUNCTION demo.register(id uuid, payload jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	RETURN jsonb_pretty(profile.register_user_profile(id, payload));
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN 'ERROR ' || st || ': ' || msg || E'\n' || jsonb_pretty(det::jsonb);
END $$;
SELECT demo.register('c908bc7c-9917-48fd-b862-d901a0880fef', :'sdk_seed'::jsonb || jsonb_build_object('accessTokenId', :'sdk'));

\echo
\echo '== identity (1.1): one username, email or phone per tenant, the same in every locale'
SELECT profile.create_tenant('ids', '{"required_contract": null}')->>'name';
CREATE FUNCTION demo.verdict(tenant text, payload jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r jsonb; det text;
BEGIN
	r := profile.create_profile(jsonb_build_object('tenantName', tenant) || payload);
	RETURN 'created: ' || concat_ws(', ', r->>'username', r->>'email', r->>'mobile_phone_number', r->>'country_code');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
	RETURN (det::jsonb)->>'code' || ' ' || coalesce((det::jsonb)->>'field',
		(SELECT string_agg((e->>'field') || ': ' || (e->>'rule'), ', ') FROM jsonb_array_elements((det::jsonb)->'errors') e));
END $$;
\pset format aligned
\pset tuples_only off
SELECT what, demo.verdict('ids', payload) AS verdict FROM (VALUES
	(1, 'a username', '{"username": "STRASSE_1", "email": "s1@example.com"}'::jsonb),
	(2, 'the same, folded', '{"username": "straße_1", "email": "s2@example.com"}'),
	(3, 'full-width letters', '{"username": "ＡＤＭＩＮ", "email": "a1@example.com"}'),
	(4, 'the same in ASCII', '{"username": "admin", "email": "a2@example.com"}'),
	(5, 'a zero-width space', jsonb_build_object('username', U&'mal\200Blory', 'email', 'm1@example.com')),
	(6, 'a Cyrillic a in Latin', jsonb_build_object('username', U&'p\0430ypal', 'email', 'p1@example.com')),
	(7, 'Latin + Han + Hiragana', '{"username": "tanaka田中ひろし", "email": "t1@example.com"}'),
	(8, 'an email in capitals', '{"email": "S1@EXAMPLE.COM"}'),
	(9, 'a trunk prefix', '{"mobile_phone_number": "+44 (0)20 7946 0958"}'),
	(10, 'the same number', '{"mobile_phone_number": "0044 20 7946 0958"}'),
	(11, 'a shared calling code', '{"mobile_phone_number": "+1 416 555 0199"}'),
	(12, 'possible, not valid', '{"mobile_phone_number": "+1 212 111 0123"}')
) AS v(n, what, payload) ORDER BY n;
\echo '-- a tenant that also refuses look-alikes (UTS #39 skeletons)'
SELECT profile.create_tenant('ids-strict', '{"required_contract": null, "username_uniqueness": "confusable"}')->>'name' AS tenant;
SELECT what, demo.verdict('ids-strict', payload) AS verdict FROM (VALUES
	(1, 'a username', '{"username": "will_1", "email": "w1@example.com"}'::jsonb),
	(2, 'digit one for l', '{"username": "wi1l_1", "email": "w2@example.com"}'),
	(3, 'rn for m', '{"username": "rnodern", "email": "m2@example.com"}'),
	(4, 'and m', '{"username": "modern", "email": "m3@example.com"}')
) AS v(n, what, payload) ORDER BY n;

\echo '== reading, finding and erasing (1.1)'
\echo '-- find_profile, by the keys of uniqueness: "straße_1" finds STRASSE_1'
SELECT p->>'id' AS erase_id, p->>'username' AS username, p->>'email' AS email, p->>'tenant' AS tenant
  FROM profile.find_profile('{"tenantName": "ids", "username": "straße_1"}') p \gset
\echo 'found' :username :email 'in tenant' :tenant
\echo '-- get_profile by id needs no tenant: the id says which'
SELECT p->>'username' AS username, p->>'state' AS state, p->>'message' AS message
  FROM profile.get_profile(:'erase_id') p;
\echo '-- erase_profile: the right to erasure'
SELECT profile.erase_profile(:'erase_id') - 'trace_id' AS erased;
SELECT chain_seq, event, client, data, erased_at IS NOT NULL AS erased
  FROM profile_data.audit_events WHERE profile_id = :'erase_id' ORDER BY chain_seq;
SELECT count(*) AS rows_still_naming_strasse_1
  FROM profile_data.audit_events e WHERE e::text ILIKE '%strasse_1%' OR e::text ILIKE '%s1@example%';
\pset format unaligned
\pset tuples_only on

\echo
\echo '== the audit trail (profile.audit_events)'
\pset format aligned
\pset tuples_only off
SELECT recorded_at::timestamp(0), tenant, client, source, event, profile_id FROM profile.audit_events ORDER BY id;
\echo '-- sealed and verified'
SELECT t AS tenant, profile.seal_audit_chain(t) - 'hash' AS seal FROM unnest('{sample-tenant,hood,cms,ropo,idp,ids,ids-strict}'::text[]) t;
SELECT t AS tenant, profile.verify_audit_chain(t) AS verified FROM unnest('{sample-tenant,hood,cms,ropo,idp,ids,ids-strict}'::text[]) t;
