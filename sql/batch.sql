-- create_profiles (contract §9 1.1): a batch of up to 1000 profiles
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT regress.standard_roles();
SELECT profile.create_tenant('bt', '{"rate_limit": {"per_second": 1, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('bt-v', '{"required_contract": null, "verification": true,
	"verification_url": "https://bt.example/verify", "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_client('bt-app') IS NOT NULL;
SELECT profile.create_client('bt-nocontract') IS NOT NULL;
SELECT profile.grant_contract('bt-app', 'create_customer_api');
SELECT profile.issue_access_token('bt-app', '{bt}') AS tok \gset
SELECT profile.issue_access_token('bt-nocontract', '{bt}') AS toknc \gset
SELECT profile.create_profile(jsonb_build_object('tenantName', 'bt', 'username', 'taken_1', 'email', 'taken@example.com')) IS NOT NULL;

CREATE FUNCTION regress.batch(payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; r jsonb;
BEGIN
	r := profile.create_profiles(payload);
	-- the documents without what changes on every run
	RETURN jsonb_set(r - 'trace_id', '{results}', (SELECT coalesce(jsonb_agg(CASE WHEN x ? 'profile'
		THEN jsonb_set(x, '{profile}', (x->'profile') - '{id,trace_id,created_at,updated_at}'::text[]) ELSE x END
		ORDER BY (x->>'index')::int), '[]') FROM jsonb_array_elements(r->'results') x));
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regress.error_doc(st, msg, det);
END
$$;

-- mixed outcomes: each item on its own
SELECT * FROM regress.counts() \gset before_
SELECT regress.batch(jsonb_build_object('accessTokenId', :'tok', 'profiles', jsonb_build_array(
	jsonb_build_object('username', 'alice_1', 'email', 'alice@example.com', 'password', 'alice-password',
		'attributes', jsonb_build_object('plan', 'gold')),
	jsonb_build_object('username', 'ALICE_1', 'email', 'alice2@example.com'),
	jsonb_build_object('username', 'taken_1', 'email', 'new@example.com'),
	jsonb_build_object('email', 'not an email', 'password', 'short'),
	'"not an object"'::jsonb,
	jsonb_build_object('email', 'bob@example.com', 'mobile_phone_number', '+49 30 1234567'),
	jsonb_build_object('email', 'BOB@example.com'),
	jsonb_build_object('phone', '0049 30 1234567'),
	jsonb_build_object('email', 'carol@example.com', 'accessTokenId', 'pe_x'),
	jsonb_build_object('full_name', 'No Contact')))) AS r \gset
SELECT (:'r'::jsonb)->'created' AS created, (:'r'::jsonb)->'failed' AS failed;
SELECT x->'index' AS index, x->'ok' AS ok, coalesce(x->'error', x->'profile') AS outcome
  FROM jsonb_array_elements((:'r'::jsonb)->'results') x;
SELECT * FROM regress.counts() \gset after_
SELECT :after_profiles - :before_profiles AS stored, :after_events - :before_events AS events;
-- every stored profile audited as if created alone: one profile.created each, the call's client and trace id
SELECT e.event, e.client, e.chain_seq, e.data->>'email' AS email, e.data ? 'password_hash' AS has_hash,
	   count(*) OVER (PARTITION BY e.trace_id) AS same_trace
  FROM profile_data.audit_events e JOIN profile_data.tenants t ON t.id = e.tenant_id
 WHERE t.name = 'bt' AND e.data->>'email' <> 'taken@example.com' ORDER BY e.id;
SELECT password_hash LIKE '$argon2id$%' AS hashed FROM profile_data.profiles WHERE email = 'alice@example.com';
SELECT count(*) AS claimed FROM profile_data.profile_ids i JOIN profile_data.profiles p USING (id)
 WHERE p.email IN ('alice@example.com', 'bob@example.com');
SELECT profile.verify_audit_chain('bt')->'ok' AS chain_ok;
-- the batch counts as one call: the limit of 1 a second was spent by it
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'later@example.com'))->'detail'->>'code' AS next_call;

-- the shape: INVALID_REQUEST, before anything else
SELECT v AS payload, regress.batch(v)->'detail'->>'code' AS code, regress.batch(v)->>'message' AS message
  FROM (VALUES ('{"tenantName": "bt-v"}'::jsonb), ('{"tenantName": "bt-v", "profiles": []}'),
			   ('{"tenantName": "bt-v", "profiles": {"email": "a@example.com"}}'), ('[1]'),
			   ('{"tenantName": "bt-v", "profiles": null}')) AS x(v);
SELECT regress.batch(jsonb_build_object('tenantName', 'bt-v', 'profiles',
	(SELECT jsonb_agg(jsonb_build_object('email', 'x' || g || '@example.com')) FROM generate_series(1, 1001) g)))->>'message' AS too_many;
-- fields outside the items; no principal; no contract
SELECT regress.batch('{"tenantName": "bt-v", "email": "top@example.com", "profiles": [{"email": "a@example.com"}]}')->'detail' AS top_field;
SELECT regress.batch(jsonb_build_object('accessTokenId', :'toknc', 'profiles', '[{"email": "nc@example.com"}]'::jsonb))->'detail'->>'code' AS no_contract;
SET ROLE regress_api;
SELECT regress.batch('{"tenantName": "bt-v", "profiles": [{"email": "api@example.com"}]}')->'detail'->>'code' AS api_without_token;
RESET ROLE;
SET ROLE regress_nobody;
SELECT profile.create_profiles('{"tenantName": "bt-v", "profiles": [{"email": "nobody@example.com"}]}');
RESET ROLE;

-- exactly 1000, in one call; a verifying tenant issues a verification per profile
SELECT r->>'created' AS created, r->>'failed' AS failed
  FROM regress.batch(jsonb_build_object('tenantName', 'bt-v', 'profiles',
	(SELECT jsonb_agg(jsonb_build_object('email', 'v' || g || '@example.com', 'username', 'user_' || g) ORDER BY g)
	   FROM generate_series(1, 1000) g))) r;
SELECT count(*) AS mails, count(DISTINCT profile_id) AS profiles FROM profile_data.verification_outbox;
SELECT count(*) FILTER (WHERE NOT enabled AND NOT verified) AS unverified FROM profile.profiles WHERE tenant = 'bt-v';
SELECT profile.verify_audit_chain('bt-v');
-- a batch colliding with itself and with what is stored, on every key
SELECT jsonb_path_query_array(regress.batch(jsonb_build_object('tenantName', 'bt-v', 'profiles', jsonb_build_array(
	jsonb_build_object('email', 'V1@example.com'), jsonb_build_object('username', 'USER_2', 'email', 'w1@example.com'),
	jsonb_build_object('email', 'w2@example.com', 'phone', '+44 20 7946 0958'),
	jsonb_build_object('email', 'w3@example.com', 'phone', '+44 (0)20 7946 0958')))), '$.results[*].error') AS errors;

-- the profile.created events a batch records itself show each row as the
-- trigger would (every non-null column but the password hash, the keys,
-- the mark, and the tenant and id, the event's own), for every profile of
-- this file
SELECT * FROM regress.created_documents();
