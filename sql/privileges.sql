-- who may call (contract §2 and §7): API roles, trusted JWT claims, admin views
\set ECHO none
\i test/fresh.sql
\set ECHO all
SELECT regress.standard_roles();
\set VERBOSITY terse
SELECT profile.create_tenant('pr') IS NOT NULL;
SELECT profile.create_tenant('pr-2') IS NOT NULL;
SELECT profile.create_client('pr-client') IS NOT NULL;
SELECT profile.grant_contract('pr-client', 'create_customer_api');
CREATE ROLE regress_web LOGIN;
CREATE ROLE regress_untrusted LOGIN;
CREATE ROLE regress_anon LOGIN;
SELECT profile.grant_api('regress_web');
SELECT profile.trust_claims('regress_web');
SELECT profile.grant_api('regress_untrusted');
SELECT role::text, privilege FROM profile_data.role_grants WHERE role::text LIKE 'regress\_%' ORDER BY 1, 2;

-- what an API role may do: the API functions, nothing else
SELECT r, f, has_function_privilege(r, f, 'EXECUTE') AS execute
  FROM unnest('{regress_web,regress_anon}'::text[]) r,
	   unnest(ARRAY['profile.create_profile(jsonb)', 'profile.register_user_profile(uuid,jsonb)',
					'profile.create_tenant(text,jsonb)', 'profile.verify_audit_chain(text)']) f
 ORDER BY 1, 2;
SELECT r, has_schema_privilege(r, 'profile_data', 'USAGE') AS data_usage,
	   has_table_privilege(r, 'profile_data.profiles', 'SELECT') AS profiles_select,
	   has_table_privilege(r, 'profile.profiles', 'SELECT') AS view_select
  FROM unnest('{regress_web,regress_untrusted,regress_anon}'::text[]) r ORDER BY 1;
SET ROLE regress_web;
SELECT count(*) FROM profile_data.profiles;
SELECT count(*) FROM profile.profiles;
SELECT profile.create_client('sneaky');
SELECT profile_data.username_key('sneaky');
SELECT count(*) FROM profile.identity_conflicts;
SELECT profile.alter_tenant('pr', '{"username_uniqueness": "confusable"}');
RESET ROLE;
SET ROLE regress_anon;
SELECT profile.create_profile('{}');
SELECT profile_data.email_key('x@example.com');
SELECT count(*) FROM profile.identity_conflicts;
RESET ROLE;
-- the identity functions: none for PUBLIC, nor for API roles
SELECT r, f, has_function_privilege(r, f, 'EXECUTE') AS execute
  FROM unnest('{regress_web,regress_anon}'::text[]) r,
	   unnest(ARRAY['profile_data.username_key(text)', 'profile_data.username_skeleton(text)',
					'profile_data.email_key(text)', 'profile_data.username_rule(text)',
					'profile_data.phone_key(text)', 'profile_data.phone_rule(text)']) f
 ORDER BY 1, 2;

-- trusted claims: "sub" names the client; "tenant" limits the tenant
BEGIN;
SET LOCAL ROLE regress_web;
SELECT set_config('request.jwt.claims', '{"role": "regress_web", "sub": "pr-client"}', true) IS NOT NULL;
SELECT regress.try('{"tenantName": "pr", "email": "claims1@example.com"}')->>'tenant';
SELECT set_config('request.jwt.claims', '{"role": "regress_web", "sub": "pr-client", "tenant": "pr"}', true) IS NOT NULL;
SELECT regress.try('{"email": "claims2@example.com"}')->>'tenant';
SELECT regress.try('{"tenantName": "pr-2", "email": "claims3@example.com"}');
SELECT set_config('request.jwt.claims', '{"role": "regress_web", "sub": "nobody"}', true) IS NOT NULL;
SELECT regress.try('{"tenantName": "pr", "email": "claims4@example.com"}');
SELECT set_config('request.jwt.claims', '{"role": "regress_web"}', true) IS NOT NULL;
SELECT regress.try('{"tenantName": "pr", "email": "claims5@example.com"}');
SELECT set_config('request.jwt.claims', 'not json', true) IS NOT NULL;
SELECT regress.try('{"tenantName": "pr", "email": "claims6@example.com"}');
-- after a PostgREST transaction the setting reads as an empty string
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL;
SELECT regress.try('{"tenantName": "pr", "email": "claims7@example.com"}');
-- a "sub" or "tenant" that is there but not a string lets nobody in:
-- ignoring a "tenant" array would let the caller pick any tenant
SELECT c AS claims, regress.try('{"tenantName": "pr-2", "email": "claims9@example.com"}')->'detail'->>'code' AS code
  FROM unnest(ARRAY['{"sub": 42}', '{"sub": ["pr-client"]}', '{"sub": null}', '{"sub": {"name": "pr-client"}}',
	'{"sub": "pr-client", "tenant": ["pr", "pr-2"]}', '{"sub": "pr-client", "tenant": 7}',
	'{"sub": "pr-client", "tenant": null}', '{"sub": "pr-client", "tenant": {}}']) c
 WHERE set_config('request.jwt.claims', c, true) IS NOT NULL;
-- claims nested deeper than a request may be are refused before parsing
SELECT set_config('request.jwt.claims', repeat('[', 200000), true) IS NOT NULL;
SELECT regress.try('{"tenantName": "pr", "email": "claims10@example.com"}')->'detail'->>'code';
COMMIT;
SELECT count(*) AS stored FROM profile_data.profiles WHERE email = 'claims9@example.com';
SELECT client, data->>'email' AS email FROM profile.audit_events WHERE data->>'email' LIKE 'claims%' ORDER BY id;

-- the client's contract applies to claims as to tokens
SELECT profile.end_contract('pr-client', 'create_customer_api');
BEGIN;
SET LOCAL ROLE regress_web;
SELECT set_config('request.jwt.claims', '{"sub": "pr-client"}', true) IS NOT NULL;
SELECT regress.try('{"tenantName": "pr", "email": "claims8@example.com"}')->'detail';
ROLLBACK;
SELECT profile.grant_contract('pr-client', 'create_customer_api');

-- claims set by hand from a role nobody trusts change nothing
BEGIN;
SET LOCAL ROLE regress_untrusted;
SELECT set_config('request.jwt.claims', '{"sub": "pr-client"}', true) IS NOT NULL;
SELECT regress.try('{"tenantName": "pr", "email": "forged@example.com"}');
ROLLBACK;
SELECT count(*) FROM profile_data.profiles WHERE email = 'forged@example.com';

-- the admin views: never a secret, a token hash or a password hash
SELECT table_name, string_agg(column_name, ', ' ORDER BY ordinal_position) AS columns
  FROM information_schema.columns WHERE table_schema = 'profile' GROUP BY 1 ORDER BY 1;
SELECT profile.issue_access_token('pr-client', '{pr,pr-2}', now() + interval '1 day') IS NOT NULL;
SELECT profile.revoke_access_token(profile.issue_access_token('pr-client'));
SELECT client, tenants, revoked, expires_at IS NULL AS no_expiry FROM profile.access_tokens ORDER BY id LIMIT 3;
SELECT client, contract, ended_at IS NOT NULL AS ended, active FROM profile.contracts WHERE client = 'pr-client' ORDER BY id;
SELECT tenant, email, has_password FROM profile.profiles WHERE email LIKE 'claims%' ORDER BY email;
SELECT name, enabled, settings->'required_contract' FROM profile.tenants WHERE name LIKE 'pr%' ORDER BY 1;
SELECT c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented FROM pg_class c
 WHERE c.relnamespace = 'profile'::regnamespace ORDER BY 1;
SET ROLE regress_admin;
SELECT count(*) > 0 FROM profile.profiles;
RESET ROLE;

DROP OWNED BY regress_web, regress_untrusted, regress_anon;
DROP ROLE regress_web, regress_untrusted, regress_anon;
