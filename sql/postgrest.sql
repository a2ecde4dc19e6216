-- PostgREST mode (SPEC section 5): with request.method set, errors carry
-- SQLSTATE PGRST and the HTTP response; successes set response.status
\set VERBOSITY terse
SELECT profile.create_tenant('rest', '{"required_contract": null, "complete_fields": ["full_name"],
	"incomplete_profiles": true, "wizard_url": "https://w.example/{id}"}') IS NOT NULL;

CREATE FUNCTION regress.http(fn text, arg jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; r jsonb;
BEGIN
	PERFORM set_config('request.method', 'POST', true);
	IF fn = 'create' THEN
		r := profile.create_profile(arg);
	ELSE
		r := profile.register_user_profile((arg->>'user_profile_id')::uuid, arg->'payload');
	END IF;
	RETURN jsonb_build_object('status', current_setting('response.status', true), 'state', r->>'state');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	IF st <> 'PGRST' THEN
		RETURN jsonb_build_object('sqlstate', st, 'message', msg);
	END IF;
	RETURN jsonb_build_object('sqlstate', st,
		'message', (msg::jsonb - 'details') || jsonb_build_object('details', (msg::jsonb->>'details')::jsonb - 'trace_id'),
		'detail', det::jsonb);
END
$$;

BEGIN;
SELECT regress.http('create', '{"tenantName": "rest", "email": "r1@example.com", "full_name": "R"}');
SELECT regress.http('create', '{"tenantName": "rest", "email": "r2@example.com"}');
SELECT regress.http('register', '{"user_profile_id": "00000000-0000-4000-8000-0000000000f1", "payload": {"tenantName": "rest", "countryCode": "FI"}}');
SELECT regress.http('create', '[]');
SELECT regress.http('create', '{"tenantName": "rest", "email": "bad"}');
SELECT regress.http('create', '{"accessTokenId": "pe_nope"}');
SELECT regress.http('create', '{"tenantName": "nope", "email": "x@example.com"}');
SELECT regress.http('create', '{"tenantName": "rest", "email": "r1@example.com", "full_name": "R"}');
COMMIT;
-- outside PostgREST: plain SQLSTATEs, no response.status
SELECT current_setting('response.status', true) IS NULL OR current_setting('response.status', true) = '' AS unset;
SELECT regress.try('{"tenantName": "rest", "email": "bad"}')->>'error';

-- an error that is not one of ours: a 500 without internals (here a tenant
-- whose settings were damaged behind the admin functions' back)
BEGIN;
UPDATE profile_data.tenants SET settings = settings || '{"bogus": 1}' WHERE name = 'rest';
SELECT regress.http('create', '{"tenantName": "rest", "email": "r3@example.com"}');
ROLLBACK;
-- a serialization failure or a read-only transaction passes through, for PostgREST to retry or map
BEGIN READ ONLY;
SELECT regress.http('create', '{"tenantName": "rest", "email": "r4@example.com", "full_name": "R"}');
ROLLBACK;
