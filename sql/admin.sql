-- admin API: tenants, clients, access tokens, contracts, role grants
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse

-- tenants: defaults are filled in and stored
SELECT profile.create_tenant('acme') - '{id,created_at,updated_at}'::text[];
SELECT profile.create_tenant('t-2.x_y', '{"required_contract": null, "default_roles": ["user"], "allowed_roles": ["user", "admin"], "rate_limit": {"per_second": 5}}')
	   - '{id,created_at,updated_at}'::text[];
SELECT name, enabled, settings->'rate_limit' FROM profile_data.tenants ORDER BY id;

-- bad names and settings: every error together, nothing written
SELECT regress.err($$SELECT profile.create_tenant('Acme')$$);
SELECT regress.err($$SELECT profile.create_tenant('')$$);
SELECT regress.err($$SELECT profile.create_tenant(NULL)$$);
SELECT regress.err($$SELECT profile.create_tenant(repeat('a', 65))$$);
SELECT regress.err($$SELECT profile.create_tenant('acme')$$);
SELECT regress.err($$SELECT profile.create_tenant('bad', '[]')$$);
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"colour": "red", "enabled": "yes", "verification": 1,
	"required_contract": 5, "complete_fields": ["email", "nickname"], "incomplete_profiles": "no",
	"default_roles": "user", "allowed_roles": [1], "rate_limit": {"per_second": -1, "burst": 3},
	"verification_ttl": 24}')$$);
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"incomplete_profiles": true}')$$);
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"wizard_url": "https://x.example/onboard"}')$$);
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"wizard_url": "onboard/{id}"}')$$);
-- the URL rule holds for the links a wizard_url makes, once {id} is filled in
SELECT u AS wizard_url, regress.err(format('SELECT profile.create_tenant(%L, %L)', 'w-' || n,
	jsonb_build_object('wizard_url', u)))->'detail'->'errors'->0->>'rule' AS rule
  FROM unnest(ARRAY['https://one.example/onboarding/{id}', 'https://one.example/o?profile={id}#start',
	'https://one.example/{id}/<script>', 'https://one.example:0/{id}', 'https://user@one.example/{id}',
	'https://one.example/{id} x', 'https://one.example/{ id }']) WITH ORDINALITY AS t(u, n);
SELECT u AS verification_url, regress.err(format('SELECT profile.create_tenant(%L, %L)', 'vu-' || n,
	jsonb_build_object('verification_url', u)))->'detail'->'errors'->0->>'rule' AS rule
  FROM unnest(ARRAY['https://app.example/verify', 'https://app.example/verify?lang=fi#top',
	'', 'https://', 'http://[::1]:65536/v', 'https://app.example/"v"']) WITH ORDINALITY AS t(u, n);
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"verification_url": 42}')$$)->'detail';
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"verification_ttl": "a while"}')$$);
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"verification_ttl": "-1 hour"}')$$);
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"default_roles": ["boss"], "allowed_roles": ["user"]}')$$);
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"rate_limit": [10, 150]}')$$);
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"complete_fields": ["login"]}')$$);
SELECT count(*) FROM profile_data.tenants WHERE name = 'bad';

-- alter_tenant merges keys
SELECT profile.alter_tenant('acme', '{"complete_fields": ["email", "full_name"], "verification_ttl": "2 days"}')->'settings';
SELECT profile.alter_tenant('acme', '{"enabled": false}')->'enabled';
SELECT profile.alter_tenant('acme', '{"enabled": true}')->'settings'->'complete_fields';
SELECT regress.err($$SELECT profile.alter_tenant('nope', '{}')$$);
SELECT regress.err($$SELECT profile.alter_tenant('acme', '{"enabled": null}')$$);
SELECT regress.err($$SELECT profile.alter_tenant('acme', '{"incomplete_profiles": true}')$$);
SELECT regress.err($$SELECT profile.alter_tenant('acme', NULL)$$);
SELECT regress.err($$SELECT profile.alter_tenant('acme', '"x"')$$);
SELECT settings->'incomplete_profiles', settings->'complete_fields' FROM profile_data.tenants WHERE name = 'acme';

-- clients
SELECT profile.create_client('shop') - '{id,created_at}'::text[];
SELECT regress.err($$SELECT profile.create_client('shop')$$);
SELECT regress.err($$SELECT profile.create_client('Shop Inc')$$);

-- access tokens: the secret is shown once and stored only as its SHA-256
SELECT profile.issue_access_token('shop') AS token \gset
SELECT :'token' ~ '^pe_[A-Za-z0-9_-]{43}$' AS looks_random;
SELECT count(*) FROM profile_data.access_tokens
 WHERE token_hash = sha256(convert_to(:'token', 'UTF8')) AND tenant_ids IS NULL;
SELECT count(*) AS secret_stored_anywhere FROM profile_data.access_tokens t
 WHERE t::text LIKE '%' || :'token' || '%';
SELECT profile.issue_access_token('shop', '{acme,t-2.x_y}', now() + interval '1 day') IS NOT NULL;
SELECT regress.err($$SELECT profile.issue_access_token('nobody')$$);
SELECT regress.err($$SELECT profile.issue_access_token('shop', '{acme,nope}')$$);
SELECT regress.err($$SELECT profile.issue_access_token('shop', '{}')$$);
SELECT regress.err($$SELECT profile.issue_access_token('shop', NULL, now() - interval '1 second')$$);
SELECT regress.err($$SELECT profile.issue_access_token(NULL)$$);
SELECT count(*) FROM profile_data.access_tokens;

SELECT profile.revoke_access_token(:'token');
SELECT revoked_at IS NOT NULL FROM profile_data.access_tokens WHERE token_hash = sha256(convert_to(:'token', 'UTF8'));
SELECT regress.err($$SELECT profile.revoke_access_token('pe_not_a_token')$$);

-- contracts
SELECT profile.grant_contract('shop', 'create_customer_api');
SELECT profile.grant_contract('shop', 'other', now() + interval '1 day', now() + interval '2 days');
SELECT regress.err($$SELECT profile.grant_contract('nobody', 'create_customer_api')$$);
SELECT regress.err($$SELECT profile.grant_contract('shop', 'Bad Name')$$);
SELECT regress.err($$SELECT profile.grant_contract('shop', 'x', now(), now() - interval '1 day')$$);
SELECT regress.err($$SELECT profile.grant_contract('shop', 'x', NULL)$$);
SELECT profile.end_contract('shop', 'other');
SELECT name, ended_at IS NOT NULL AS ended FROM profile_data.contracts ORDER BY id;
SELECT regress.err($$SELECT profile.end_contract('shop', 'never')$$);
SELECT regress.err($$SELECT profile.end_contract('nobody', 'other')$$);

-- role grants
CREATE ROLE regress_admin LOGIN;
CREATE ROLE regress_api LOGIN;
CREATE ROLE regress_nobody LOGIN;
SELECT profile.grant_admin('regress_admin');
SELECT profile.grant_api('regress_api');
SELECT regress.err($$SELECT profile.grant_api('regress_no_such_role')$$);
SELECT role::text, privilege FROM profile_data.role_grants ORDER BY 1, 2;
SELECT r.rolname, p.oid::regprocedure::text AS function, has_function_privilege(r.oid, p.oid, 'EXECUTE') AS can
  FROM pg_roles r, pg_proc p
 WHERE r.rolname LIKE 'regress\_%' AND p.pronamespace = 'profile'::regnamespace
 ORDER BY 1, 2;
SELECT rolname, has_schema_privilege(rolname, 'profile', 'USAGE') AS profile_usage,
	   has_schema_privilege(rolname, 'profile_data', 'USAGE') AS data_usage,
	   has_table_privilege(rolname, 'profile.audit_events', 'SELECT') AS audit_select
  FROM pg_roles WHERE rolname LIKE 'regress\_%' ORDER BY 1;

-- an admin role runs admin functions; API and other roles cannot
SET ROLE regress_admin;
SELECT profile.create_client('from-admin-role') - '{id,created_at}'::text[];
RESET ROLE;
SET ROLE regress_api;
SELECT profile.create_client('x');
SELECT * FROM profile_data.profiles;
RESET ROLE;
SET ROLE regress_nobody;
SELECT profile.create_profile('{}');
RESET ROLE;

-- a verification_ttl must keep now() plus it a timestamp
SELECT regress.err($$SELECT profile.create_tenant('bad', '{"verification_ttl": "1000000 years"}')$$)->'detail';
SELECT profile.create_tenant('ttl-ok', '{"verification_ttl": "100 years"}')->'settings'->'verification_ttl';
