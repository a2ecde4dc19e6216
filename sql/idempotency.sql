-- idempotency keys (contract §9 1.1): create_profile, create_profiles and
-- register_user_profile replay the first committed result to a retry
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('ik', '{"rate_limit": {"per_second": 1, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('ik-2', '{"required_contract": null, "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_client('ik-app') IS NOT NULL;
SELECT profile.create_client('ik-other') IS NOT NULL;
SELECT profile.grant_contract('ik-app', 'create_customer_api');
SELECT profile.grant_contract('ik-other', 'create_customer_api');
SELECT profile.issue_access_token('ik-app', '{ik,ik-2}') AS tok \gset
SELECT profile.issue_access_token('ik-other', '{ik-2}') AS tokother \gset

CREATE FUNCTION regress.call(fn text, payload jsonb, id uuid DEFAULT NULL) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	CASE fn
		WHEN 'create' THEN RETURN profile.create_profile(payload);
		WHEN 'batch' THEN RETURN profile.create_profiles(payload);
		WHEN 'register' THEN RETURN profile.register_user_profile(id, payload);
	END CASE;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regress.error_doc(st, msg, det);
END
$$;

-- the first call, and its retry: the same result, trace id included, and nothing written
SELECT regress.call('create', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'ik', 'idempotencyKey', 'order-1',
	'email', 'jane@example.com', 'password', 'jane-password-1', 'full_name', 'Jane')) AS first \gset
SELECT * FROM regress.counts() \gset before_
SELECT regress.call('create', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'ik', 'idempotencyKey', 'order-1',
	'email', 'jane@example.com', 'password', 'jane-password-1', 'full_name', 'Jane')) AS replay \gset
SELECT (:'replay'::jsonb) - 'replayed' = :'first'::jsonb AS same_result, (:'replay'::jsonb)->'replayed' AS replayed,
	   (:'first'::jsonb) ? 'replayed' AS first_says_replayed;
SELECT * FROM regress.counts() \gset after_
SELECT :after_profiles - :before_profiles AS profiles_written, :after_events - :before_events AS events_written;
-- a replay is not rate-limited (the limit is 1 a second and was spent); a new call is
SELECT regress.call('create', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'ik', 'idempotencyKey', 'order-1',
	'email', 'jane@example.com', 'password', 'jane-password-1', 'full_name', 'Jane'))->'replayed' AS replayed_again;
SELECT regress.call('create', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'ik', 'idempotencyKey', 'order-2',
	'email', 'john@example.com'))->'detail'->>'code' AS new_key;
-- the same key with another request: IDEMPOTENCY_MISMATCH (422), a password differing too
SELECT label, regress.call('create', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'ik', 'idempotencyKey', 'order-1') || p)->'detail' AS detail
  FROM (VALUES (1, 'another email', '{"email": "other@example.com", "password": "jane-password-1", "full_name": "Jane"}'::jsonb),
			   (2, 'another password', '{"email": "jane@example.com", "password": "jane-password-2", "full_name": "Jane"}'),
			   (3, 'no password', '{"email": "jane@example.com", "full_name": "Jane"}'),
			   (4, 'one more field', '{"email": "jane@example.com", "password": "jane-password-1", "full_name": "Jane", "language": "en"}'),
			   (5, 'an alias', '{"email": "jane@example.com", "password": "jane-password-1", "full_name": "Jane", "status": "E"}'))
	   AS x(n, label, p) ORDER BY n;
SELECT regress.call('create', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'ik', 'idempotencyKey', 'order-1',
	'email', 'jane@example.com'))->>'message' AS mismatch_message;
-- the token and the tenant are not part of the request: another token of the client replays
SELECT profile.issue_access_token('ik-app', '{ik}') AS tok_b \gset
SELECT regress.call('create', jsonb_build_object('accessTokenId', :'tok_b', 'idempotencyKey', 'order-1',
	'email', 'jane@example.com', 'password', 'jane-password-1', 'full_name', 'Jane'))->'replayed' AS other_token;

-- scope: (client, tenant, function)
SELECT regress.call('create', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'ik-2', 'idempotencyKey', 'k',
	'email', 'a@example.com'))->>'email' AS tenant_1,
	   regress.call('create', jsonb_build_object('accessTokenId', :'tokother', 'idempotencyKey', 'k',
	'email', 'b@example.com'))->>'email' AS other_client,
	   regress.call('create', jsonb_build_object('tenantName', 'ik-2', 'idempotencyKey', 'k',
	'email', 'c@example.com'))->>'email' AS admin,
	   regress.call('batch', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'ik-2', 'idempotencyKey', 'k',
	'profiles', jsonb_build_array(jsonb_build_object('email', 'd@example.com'))))->'created' AS other_function;
SELECT key, function, client, http_status, cardinality(profile_ids) AS profiles
  FROM profile_data.idempotency_keys ORDER BY client, function, key;

-- keys: 1 to 255 printable ASCII; a header and a payload key must agree
SELECT left(k, 8) AS k, length(k), regress.call('create', jsonb_build_object('tenantName', 'ik-2', 'email', 'f@example.com', 'idempotencyKey', k))->'detail' AS detail
  FROM (VALUES (''::text), (repeat('x', 256)), (E'tab\there'), (U&'caf\00E9')) AS x(k);
SELECT regress.call('create', '{"tenantName": "ik-2", "email": "f@example.com", "idempotencyKey": 7}')->'detail' AS not_a_string;
-- through PostgREST, the Idempotency-Key header
BEGIN;
SELECT set_config('request.method', 'POST', true), set_config('request.headers', '{"idempotency-key": "hdr-1"}', true);
SELECT regress.http('create', '{"tenantName": "ik-2", "email": "h@example.com"}');
SELECT regress.http('create', '{"tenantName": "ik-2", "email": "h@example.com"}');
SELECT regress.http('create', '{"tenantName": "ik-2", "email": "h@example.com", "idempotencyKey": "hdr-1"}');
SELECT regress.http('create', '{"tenantName": "ik-2", "email": "h@example.com", "idempotencyKey": "other"}');
SELECT regress.http('create', '{"tenantName": "ik-2", "email": "h2@example.com"}');
COMMIT;

-- a call that fails keeps nothing: the retry runs
SELECT regress.call('create', '{"tenantName": "ik-2", "idempotencyKey": "fails", "email": "bad"}')->'detail'->>'code' AS first;
SELECT count(*) AS kept FROM profile_data.idempotency_keys WHERE key = 'fails';
SELECT regress.call('create', '{"tenantName": "ik-2", "idempotencyKey": "fails", "email": "good@example.com"}')->>'email' AS retry;

-- expiry: after the tenant's idempotency_ttl the key is new again
SELECT regress.err($$SELECT profile.alter_tenant('ik-2', '{"idempotency_ttl": "0 seconds"}')$$)->'detail'->'errors'->0->>'field' AS bad_ttl;
SELECT profile.alter_tenant('ik-2', '{"idempotency_ttl": "1 hour"}')->'settings'->>'idempotency_ttl' AS ttl;
SELECT expires_at - created_at AS kept_for FROM profile_data.idempotency_keys WHERE key = 'fails';
ALTER TABLE profile_data.idempotency_keys DISABLE TRIGGER ALL;
UPDATE profile_data.idempotency_keys SET expires_at = now() - interval '1 second' WHERE key IN ('k', 'hdr-1');
SELECT regress.call('create', '{"tenantName": "ik-2", "idempotencyKey": "k", "email": "k2@example.com"}')->>'email' AS after_expiry;
SELECT profile.purge_idempotency_keys('ik-2') AS purged, profile.purge_idempotency_keys() AS purged_all;
SELECT regress.err($$SELECT profile.purge_idempotency_keys('nope')$$)->'detail'->>'code' AS unknown_tenant;

-- create_profiles: the whole result replays; the items' passwords are compared
SELECT regress.call('batch', jsonb_build_object('tenantName', 'ik-2', 'idempotencyKey', 'import-1', 'profiles', jsonb_build_array(
	jsonb_build_object('email', 'p1@example.com', 'password', 'first-password'),
	jsonb_build_object('email', 'bad', 'password', 'second-password')))) AS first \gset
SELECT (regress.call('batch', jsonb_build_object('tenantName', 'ik-2', 'idempotencyKey', 'import-1', 'profiles', jsonb_build_array(
	jsonb_build_object('email', 'p1@example.com', 'password', 'first-password'),
	jsonb_build_object('email', 'bad', 'password', 'second-password')))) - 'replayed') = :'first'::jsonb AS same_result;
SELECT n, regress.call('batch', jsonb_build_object('tenantName', 'ik-2', 'idempotencyKey', 'import-1', 'profiles', p))->'detail'->>'code' AS code
  FROM (VALUES (1, jsonb_build_array(jsonb_build_object('email', 'p1@example.com', 'password', 'other-password'),
				jsonb_build_object('email', 'bad', 'password', 'second-password'))),
			   (2, jsonb_build_array(jsonb_build_object('email', 'p1@example.com', 'password', 'first-password'),
				jsonb_build_object('email', 'bad', 'password', 'other-password')))) AS x(n, p) ORDER BY n;
-- several passwords are kept as one Argon2id hash of them all: a retry
-- costs one verification, however many items have one
SELECT cardinality(password_hashes) AS hashes_kept FROM profile_data.idempotency_keys WHERE key = 'import-1';
-- register_user_profile: the id argument is part of the request
SELECT regress.call('register', '{"tenantName": "ik-2", "countryCode": "FI", "idempotencyKey": "reg-1"}',
	'00000000-0000-4000-8000-0000000000a1')->>'audit_events' AS first,
	   regress.call('register', '{"tenantName": "ik-2", "countryCode": "FI", "idempotencyKey": "reg-1"}',
	'00000000-0000-4000-8000-0000000000a1')->'replayed' AS replayed,
	   regress.call('register', '{"tenantName": "ik-2", "countryCode": "FI", "idempotencyKey": "reg-1"}',
	'00000000-0000-4000-8000-0000000000a2')->'detail'->>'code' AS other_id;
-- other functions take no key
SELECT regress.err($$SELECT profile.update_profile('00000000-0000-4000-8000-0000000000a1', '{"idempotencyKey": "u", "full_name": "X"}')$$)->'detail' AS update_key;

-- what is kept never lets a password be tested offline: no plain hash of
-- a password or of a request, only Argon2id hashes
SELECT count(*) AS rows, count(*) FILTER (WHERE password_hashes IS NOT NULL) AS with_passwords,
	   bool_and(coalesce((SELECT bool_and(h LIKE '$argon2id$%') FROM unnest(password_hashes) h WHERE h IS NOT NULL), true)) AS argon2id_only
  FROM profile_data.idempotency_keys;
SELECT count(*) AS plain_hashes_found FROM profile_data.idempotency_keys i,
	   (VALUES ('jane-password-1'), ('first-password'), ('second-password'),
			   ('0:14:first-password1:15:second-password'),
			   ('{"email": "jane@example.com", "password": "jane-password-1", "full_name": "Jane"}'),
			   ('{"email": "jane@example.com", "password": "jane-password-1", "full_name": "Jane", "idempotencyKey": "order-1"}')) AS s(v)
 WHERE i::text LIKE '%' || encode(sha256(convert_to(s.v, 'UTF8')), 'hex') || '%'
	OR i::text LIKE '%' || encode(sha256(convert_to(s.v, 'UTF8')), 'base64') || '%'
	OR i::text LIKE '%' || md5(s.v) || '%'
	OR i::text LIKE '%' || s.v || '%';

-- erasing a profile erases the stored results that show it; the key is new again
SELECT profile.erase_profile(((:'first'::jsonb)->'results'->0->'profile'->>'id')::uuid)->'erased' AS erased;
SELECT count(*) AS kept FROM profile_data.idempotency_keys WHERE key = 'import-1';
SELECT regress.call('batch', jsonb_build_object('tenantName', 'ik-2', 'idempotencyKey', 'import-1', 'profiles', jsonb_build_array(
	jsonb_build_object('email', 'p1b@example.com'))))->'created' AS new_again;

-- "profiles" holds the items of create_profiles only: to create_profile and
-- register_user_profile it is an unknown key, however many objects it
-- holds (their passwords once overran the room kept for one); nothing written
SELECT * FROM regress.counts() \gset before_
SELECT regress.call('create', jsonb_build_object('tenantName', 'ik-2', 'idempotencyKey', 'many-1', 'email', 'many@example.com',
	'profiles', (SELECT jsonb_agg(jsonb_build_object('password', 'pw-' || g)) FROM generate_series(1, 2000) g)))->'detail' AS create_profiles_key;
SELECT regress.call('register', jsonb_build_object('tenantName', 'ik-2', 'countryCode', 'FI', 'idempotencyKey', 'many-2',
	'profiles', (SELECT jsonb_agg(jsonb_build_object('password', 'pw-' || g)) FROM generate_series(1, 2000) g)),
	'00000000-0000-4000-8000-0000000000a3')->'detail' AS register_profiles_key;
SELECT * FROM regress.counts() \gset after_
SELECT :after_profiles - :before_profiles AS profiles_written, :after_events - :before_events AS events_written,
	   (SELECT count(*) FROM profile_data.idempotency_keys WHERE key LIKE 'many-%') AS keys_kept;
