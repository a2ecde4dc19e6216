-- reading, deleting and erasing profiles (contract §8 1.1): get_profile,
-- find_profile, delete_profile, erase_profile
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT regress.standard_roles();
SELECT profile.create_tenant('lc', '{"rate_limit": {"per_second": 0, "per_minute": 0}, "verification": true,
	"verification_url": "https://lc.example/verify", "incomplete_profiles": true, "complete_fields": ["full_name"],
	"wizard_url": "https://lc.example/onboard/{id}"}') IS NOT NULL;
SELECT profile.create_tenant('lc-2', '{"rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('lc-c', '{"required_contract": null, "username_uniqueness": "confusable"}') IS NOT NULL;
SELECT profile.create_client('lc-app') IS NOT NULL;
SELECT profile.create_client('lc-nocontract') IS NOT NULL;
SELECT profile.grant_contract('lc-app', 'create_customer_api');
SELECT profile.issue_access_token('lc-app', '{lc}') AS tok \gset
SELECT profile.issue_access_token('lc-app', '{lc-2}') AS tok2 \gset
SELECT profile.issue_access_token('lc-app', '{lc,lc-2}') AS tokboth \gset
SELECT profile.issue_access_token('lc-nocontract', '{lc}') AS toknc \gset

-- a call's result without what changes on every run, or its error
CREATE FUNCTION regress.call(fn text, id uuid, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; r jsonb;
BEGIN
	CASE fn
		WHEN 'get' THEN r := profile.get_profile(id, payload);
		WHEN 'find' THEN r := profile.find_profile(payload);
		WHEN 'delete' THEN r := profile.delete_profile(id, payload);
		WHEN 'erase' THEN r := profile.erase_profile(id, payload);
		WHEN 'update' THEN r := profile.update_profile(id, payload);
	END CASE;
	IF r->>'wizard_url' IS NOT NULL THEN
		r := jsonb_set(r, '{wizard_url}', to_jsonb(replace(r->>'wizard_url', r->>'id', '<id>')));
	END IF;
	RETURN r - '{id,trace_id,created_at,updated_at}'::text[];
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regress.error_doc(st, replace(msg, id::text, '<id>'), det);
END
$$;

-- Jane: a password, attributes, a phone, a pending verification, an update
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'username', 'Jane.Doe',
	'email', 'Jane.Doe@Example.com', 'mobile_phone_number', '+49 30 1234567', 'password', 'jane-secret-pw',
	'full_name', 'Jane Doe', 'attributes', '{"city": "Berlin-Mitte", "pet": "Schnuffel"}'))->>'id' AS jane \gset
SELECT regress.call('update', :'jane', jsonb_build_object('accessTokenId', :'tok', 'language', 'de',
	'referer', 'https://referer.example/jane-campaign'))->>'language' AS language;
-- John: incomplete, in the same tenant; Erik: in tenant lc-2
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'john@example.com',
	'verificationUrl', 'https://lc.example/v'))->>'id' AS john \gset
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok2', 'username', 'erik_1',
	'email', 'erik@example.com'))->>'id' AS erik \gset

-- get_profile: the document of §3, in the profile's own tenant
SELECT regress.call('get', :'jane', jsonb_build_object('accessTokenId', :'tok'));
SELECT regress.call('get', :'john', jsonb_build_object('accessTokenId', :'tokboth'))->>'wizard_url' AS wizard_url;
-- every key of the document, also for a profile without roles or attributes
SELECT string_agg(k, ' ' ORDER BY k) AS keys FROM jsonb_object_keys(profile.get_profile(:'john')) k;
-- an incomplete row in a tenant without a wizard URL (a direct INSERT; or
-- the tenant turned incomplete_profiles off): no wizard_url, no crash
INSERT INTO profile_data.profiles (tenant_id, id, state, email)
	SELECT id, '01a20000-0000-7000-8000-0000000000d1', 'incomplete', 'direct@example.com'
	  FROM profile_data.tenants WHERE name = 'lc-2';
SELECT r->>'state' AS state, r->'wizard_url' AS wizard_url
  FROM regress.call('get', '01a20000-0000-7000-8000-0000000000d1', jsonb_build_object('accessTokenId', :'tok2')) r;
SELECT r->>'state' AS state, r->'wizard_url' AS wizard_url
  FROM regress.call('find', NULL, jsonb_build_object('accessTokenId', :'tok2', 'email', 'direct@example.com')) r;
-- an admin needs no payload; a token limited to several tenants needs no tenantName
SELECT regress.call('get', :'jane', '{}')->>'username' AS admin, regress.call('get', :'erik', jsonb_build_object('accessTokenId', :'tokboth'))->>'tenant' AS tenant;
-- no contract is needed to read
SELECT regress.call('get', :'jane', jsonb_build_object('accessTokenId', :'toknc'))->>'username' AS without_contract;
-- an unknown id, another tenant's id, a tenant the request does not name: all PROFILE_NOT_FOUND
SELECT regress.call('get', '00000000-0000-7000-8000-000000000000', jsonb_build_object('accessTokenId', :'tok')) AS unknown;
SELECT regress.call('get', :'erik', jsonb_build_object('accessTokenId', :'tok')) AS other_tenant;
SELECT regress.call('get', :'jane', jsonb_build_object('accessTokenId', :'tokboth', 'tenantName', 'lc-2')) AS not_named;
SELECT regress.call('get', :'jane', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'nope')) AS no_such_tenant;
-- no principal, a bad token, profile fields in the payload, a NULL id, a bad payload
SELECT regress.call('get', :'jane', jsonb_build_object('accessTokenId', 'pe_nope')) AS bad_token;
SELECT regress.call('get', :'jane', jsonb_build_object('accessTokenId', :'tok', 'full_name', 'x', 'colour', 'red')) AS fields;
SELECT regress.call('get', NULL, jsonb_build_object('accessTokenId', :'tok')) AS null_id;
SELECT regress.call('get', :'jane', '[1]') AS not_an_object;
-- STABLE, and works in a read-only transaction (PostgREST's GET)
SELECT p.provolatile, p.proname FROM pg_proc p WHERE p.pronamespace = 'profile'::regnamespace
   AND p.proname IN ('get_profile', 'find_profile', 'delete_profile', 'erase_profile') ORDER BY 2;
BEGIN TRANSACTION READ ONLY;
SELECT regress.call('get', :'jane', jsonb_build_object('accessTokenId', :'tok'))->>'username' AS read_only;
SELECT regress.call('find', NULL, jsonb_build_object('accessTokenId', :'tok', 'email', 'jane.doe@example.com'))->>'username' AS read_only;
SELECT regress.call('delete', :'jane', jsonb_build_object('accessTokenId', :'tok')) AS delete_read_only;
ROLLBACK;

-- find_profile: by the keys of uniqueness
SELECT v AS lookup, regress.call('find', NULL, jsonb_build_object('accessTokenId', :'tok') || v)->>'username' AS found
  FROM (VALUES ('{"username": "jane.doe"}'::jsonb), ('{"login": "JANE.DOE"}'), (jsonb_build_object('username', U&'\FF2A\FF41\FF4E\FF45.Doe')),
			   ('{"email": "JANE.DOE@example.COM"}'), ('{"phone": "0049 (0)30 123 4567"}'),
			   ('{"mobile_phone_number": "+49301234567"}')) AS l(v);
SELECT v AS lookup, regress.call('find', NULL, jsonb_build_object('accessTokenId', :'tok') || v) AS result
  FROM (VALUES ('{"username": "jane_doe"}'::jsonb), ('{"username": "erik_1"}'), ('{}'),
			   ('{"username": "jane.doe", "email": "jane.doe@example.com"}'), ('{"email": 5}'),
			   ('{"full_name": "Jane Doe"}'), ('{"phone": "not a number"}')) AS l(v);
SELECT regress.call('find', NULL, '{"tenantName": "lc-2", "email": "ERIK@example.com"}')->>'username' AS admin_finds;
-- a confusable tenant finds by skeleton too
SELECT profile.create_profile('{"tenantName": "lc-c", "username": "will_1", "email": "will@example.com"}') IS NOT NULL;
SELECT regress.call('find', NULL, '{"tenantName": "lc-c", "username": "wi1l_1"}')->>'username' AS by_skeleton,
	   regress.call('find', NULL, '{"tenantName": "lc-2", "username": "Erik_1"}')->>'username' AS by_key;

-- delete_profile: needs the contract; audited; the id stays taken
SELECT regress.call('delete', :'john', jsonb_build_object('accessTokenId', :'toknc')) AS no_contract;
SELECT regress.call('delete', :'erik', jsonb_build_object('accessTokenId', :'tok')) AS other_tenant;
SELECT count(*) AS johns_mails FROM profile_data.verification_outbox WHERE profile_id = :'john';
SELECT regress.call('delete', :'john', jsonb_build_object('accessTokenId', :'tok')) AS deleted;
SELECT event, client, data->>'email' AS email FROM profile_data.audit_events WHERE profile_id = :'john' ORDER BY chain_seq;
SELECT count(*) AS johns_mails, (SELECT count(*) FROM profile_data.verification_tokens WHERE profile_id = :'john') AS johns_tokens
  FROM profile_data.verification_outbox WHERE profile_id = :'john';
SELECT regress.call('get', :'john', jsonb_build_object('accessTokenId', :'tok')) AS after_delete;
SELECT regress.call('delete', :'john', jsonb_build_object('accessTokenId', :'tok')) AS again;
SELECT regress.err(format($$SELECT profile.register_user_profile(%L, '{"tenantName": "lc-2", "countryCode": "FI"}')$$, :'john'))->'detail' AS id_taken;
SELECT profile.verify_audit_chain('lc')->'ok' AS chain_ok;

-- erase_profile: Jane registered SDK events too (in a tenant of her own id)
SELECT profile.create_tenant('lc-sdk', '{"required_contract": null}') IS NOT NULL;
SELECT profile.register_user_profile('c0ffee00-0000-4000-8000-000000000001', jsonb_build_object('tenantName', 'lc-sdk',
	'countryCode', 'DE', 'arid', 'a1a1a1a1-0000-4000-8000-000000000001',
	'tpAuditMetadata', jsonb_build_object('sessionId', 'b2b2b2b2-0000-4000-8000-000000000002'),
	'sdkAuditEvents', jsonb_build_array(
		jsonb_build_object('dateTime', '2026-11-30T10:00:00Z', 'deviceMake', 'Jane-Pixel-Phone', 'osVersion', 'JaneOS 14',
			'logEvent', 'jane-opened-app', 'audit', jsonb_build_object('ip', '198.51.100.77', 'geo', 'Berlin-Mitte')),
		jsonb_build_object('dateTime', '2026-11-30T10:01:00Z', 'logEvent', 'jane-signed-in'))))->>'audit_events' AS sdk_events;
SELECT profile.update_profile('c0ffee00-0000-4000-8000-000000000001', '{"full_name": "Jane SDK Doe", "email": "jane.sdk@example.com"}')->>'full_name';
SELECT * FROM regress.counts() \gset before_
SELECT regress.call('erase', :'jane', jsonb_build_object('accessTokenId', :'toknc')) AS no_contract;
SELECT regress.call('erase', :'jane', jsonb_build_object('accessTokenId', :'tok')) AS erased;
SELECT regress.call('erase', 'c0ffee00-0000-4000-8000-000000000001', '{}') AS erased_sdk;
SELECT * FROM regress.counts() \gset after_
SELECT :before_profiles - :after_profiles AS profiles_removed, :after_events - :before_events AS events_added;
SELECT chain_seq, event, source, client IS NOT NULL AS client, trace_id IS NOT NULL AS trace, data,
	   salt IS NULL AS no_salt, content_hash IS NOT NULL AS commitment, erased_at IS NOT NULL AS erased
  FROM profile_data.audit_events WHERE profile_id IN (:'jane', 'c0ffee00-0000-4000-8000-000000000001')
 ORDER BY profile_id, chain_seq;
-- what is kept of an SDK event: ids, names, times
SELECT session_id, occurred_at FROM profile_data.audit_events
 WHERE profile_id = 'c0ffee00-0000-4000-8000-000000000001' AND source = 'sdk' ORDER BY chain_seq;
-- no personal value of Jane is left in any table of the extension
CREATE FUNCTION regress.scan(patterns text[]) RETURNS TABLE (relation text, hits bigint) LANGUAGE plpgsql AS $$
DECLARE r record; n bigint;
BEGIN
	FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
			  WHERE c.relnamespace IN ('profile_data'::regnamespace, 'profile'::regnamespace)
				AND c.relkind IN ('r', 'v', 'p') ORDER BY 1 LOOP
		EXECUTE format('SELECT count(*) FROM %s t WHERE t::text ~* $1', r.rel)
		   INTO n USING array_to_string(patterns, '|');
		relation := r.rel; hits := n;
		RETURN NEXT;
	END LOOP;
END
$$;
SELECT relation, hits FROM regress.scan(ARRAY['jane', 'doe', 'schnuffel', 'berlin', '301234567', 'referer\.example',
	'pixel', 'janeos', '198\.51\.100\.77', 'argon2id']) WHERE hits > 0;
SELECT count(*) AS relations_scanned FROM regress.scan(ARRAY['x']);
-- ... while the others are still there
SELECT relation, hits FROM regress.scan(ARRAY['erik@example\.com']) WHERE hits > 0 ORDER BY 1;
-- the chains still verify, counting the erased events
SELECT t, profile.verify_audit_chain(t) FROM unnest('{lc,lc-sdk}'::text[]) t;
-- the id stays taken; the profile is gone for every function
SELECT regress.call(fn, :'jane', jsonb_build_object('accessTokenId', :'tok'))->'detail'->>'code' AS code, fn
  FROM unnest('{get,update,delete,erase}'::text[]) fn;
SELECT regress.err(format($$SELECT profile.register_user_profile(%L, '{"tenantName": "lc-2", "countryCode": "FI"}')$$, :'jane'))->'detail' AS id_taken;
-- a profile deleted earlier can still be erased: its events held its values
SELECT regress.call('erase', :'john', jsonb_build_object('accessTokenId', :'tok')) AS erase_deleted;
SELECT relation, hits FROM regress.scan(ARRAY['john@example']) WHERE hits > 0;
SELECT profile.verify_audit_chain('lc');

-- tampering after an erasure is still caught
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'mallory@example.com',
	'verificationUrl', 'https://lc.example/v'))->>'id' AS mallory \gset
SELECT profile.seal_audit_chain('lc')->'sealed' AS sealed;
ALTER TABLE profile_data.audit_events DISABLE TRIGGER append_only;
BEGIN;
UPDATE profile_data.audit_events SET data = jsonb_set(data, '{email}', '"eve@example.com"') WHERE profile_id = :'mallory';
SELECT profile.verify_audit_chain('lc')->'broken'->>'reason' AS altered_content;
ROLLBACK;
BEGIN;
UPDATE profile_data.audit_events SET client = 'someone-else' WHERE profile_id = :'jane' AND chain_seq = 1;
SELECT profile.verify_audit_chain('lc')->'broken'->>'reason' AS erased_event_altered;
ROLLBACK;
BEGIN;
UPDATE profile_data.audit_events SET content_hash = sha256('x') WHERE profile_id = :'jane' AND chain_seq = 2;
SELECT profile.verify_audit_chain('lc')->'broken'->>'reason' AS commitment_altered;
ROLLBACK;
BEGIN;
UPDATE profile_data.audit_events SET data = NULL, salt = NULL, erased_at = now() WHERE profile_id = :'mallory';
SELECT profile.verify_audit_chain('lc')->'broken'->>'reason' AS erased_behind_the_back;
ROLLBACK;
BEGIN;
UPDATE profile_data.audit_events SET data = '{"events_erased": 1, "verified": true}' WHERE profile_id = :'jane' AND event = 'profile.erased';
SELECT profile.verify_audit_chain('lc')->'broken'->>'reason' AS record_altered;
ROLLBACK;
BEGIN;
DELETE FROM profile_data.audit_events WHERE profile_id = :'jane' AND event = 'profile.erased';
SELECT profile.verify_audit_chain('lc')->'broken'->>'reason' AS record_removed;
ROLLBACK;
ALTER TABLE profile_data.audit_events ENABLE TRIGGER append_only;
SELECT profile.verify_audit_chain('lc')->'ok' AS untouched;
-- and the audit table is still append-only for everyone else
SELECT regress.err(format($$UPDATE profile_data.audit_events SET data = NULL, salt = NULL, erased_at = now() WHERE profile_id = %L$$, :'mallory'));

-- privileges: API roles get the four functions; nobody else
SELECT r, f, has_function_privilege(r, f, 'EXECUTE') AS execute
  FROM unnest('{regress_api,regress_nobody}'::text[]) r,
	   unnest(ARRAY['profile.get_profile(uuid,jsonb)', 'profile.find_profile(jsonb)',
					'profile.delete_profile(uuid,jsonb)', 'profile.erase_profile(uuid,jsonb)']) f
 ORDER BY 1, 2;
SET ROLE regress_nobody;
SELECT profile.get_profile(:'erik', '{}');
RESET ROLE;
SET ROLE regress_api;
SELECT regress.call('get', :'erik', '{}') AS api_without_token;
SELECT regress.call('get', :'erik', jsonb_build_object('accessTokenId', :'tok2'))->>'username' AS api_with_token;
RESET ROLE;
