-- incomplete profiles (Ropo One) and update_profile (contract §3)
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('ob', '{"complete_fields": ["full_name", "mobile_phone_number"], "incomplete_profiles": true,
	"wizard_url": "https://one.example/onboarding/{id}?step=2", "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('ob-2', '{"rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_client('ob-app') IS NOT NULL;
SELECT profile.grant_contract('ob-app', 'create_customer_api');
SELECT profile.issue_access_token('ob-app', '{ob}') AS tok \gset
SELECT profile.issue_access_token('ob-app', '{ob-2}') AS tok2 \gset

CREATE FUNCTION regress.upd(id uuid, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; r jsonb;
BEGIN
	r := profile.update_profile(id, payload);
	IF r->>'wizard_url' IS NOT NULL THEN
		r := jsonb_set(r, '{wizard_url}', to_jsonb(replace(r->>'wizard_url', r->>'id', '<id>')));
	END IF;
	RETURN r - '{id,trace_id,created_at,updated_at}'::text[];
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regress.error_doc(st, msg, det);
END
$$;

-- incomplete data is stored, with the wizard URL; uniqueness and field rules still apply
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'maija@example.fi')) AS r \gset
SELECT (:'r'::jsonb)->>'state' AS state, (:'r'::jsonb)->>'wizard_url' = 'https://one.example/onboarding/' || ((:'r'::jsonb)->>'id') || '?step=2' AS wizard_url_has_id;
SELECT (:'r'::jsonb)->>'id' AS id \gset
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'MAIJA@example.fi'))->'detail';
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'bad'))->'detail'->'errors';

-- continuing: one field at a time; the state follows complete_fields
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'full_name', 'Maija Meikäläinen'));
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'phone', '+358 40 123 4567', 'language', 'fi'));
SELECT state FROM profile_data.profiles WHERE id = :'id';
-- null clears a field; clearing a complete_fields entry makes it incomplete again
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'language', NULL))->>'language';
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'mobile_phone_number', NULL))->>'state';
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'phone', '+358401234567'))->>'state';
-- the password is hashed and changes show in the trail only as a fact
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'password', 'a new passw0rd')) ? 'password';
SELECT chain_seq, event, client, data FROM profile_data.audit_events WHERE profile_id = :'id' AND chain_seq > 1 ORDER BY chain_seq;

-- the same rules as create_profile, all errors together; nothing written
SELECT * FROM regress.counts() \gset before_
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'email', 'nope', 'login', 'ab', 'access_level', 3, 'colour', 'red'));
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'email', NULL, 'phone', NULL));
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'username', 'x.y.z', 'login', 'x.y.z'));
SELECT regress.upd(:'id', '[]');
SELECT profiles - :before_profiles AS profiles_written, events - :before_events AS events_written FROM regress.counts();
-- taken values: PROFILE_EXISTS
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'other@example.fi', 'username', 'other.user'))->>'state';
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'email', 'OTHER@example.fi'));
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'login', 'Other.User'));
-- unknown ids, and ids of another tenant, are not found
SELECT regress.upd('00000000-0000-4000-8000-000000000000', jsonb_build_object('accessTokenId', :'tok', 'full_name', 'X'))->'detail';
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok2', 'full_name', 'Mallory'))->'detail';
SELECT regress.upd(NULL, jsonb_build_object('accessTokenId', :'tok', 'full_name', 'X'))->'detail'->'errors';
-- principal and contract as for create_profile
SELECT regress.upd(:'id', '{"accessTokenId": "pe_nope", "full_name": "X"}')->'detail';
SELECT profile.end_contract('ob-app', 'create_customer_api');
SELECT regress.upd(:'id', jsonb_build_object('accessTokenId', :'tok', 'full_name', 'X'))->'detail';
SELECT profile.grant_contract('ob-app', 'create_customer_api');
SELECT full_name FROM profile_data.profiles WHERE id = :'id';
SELECT profile.verify_audit_chain('ob');
