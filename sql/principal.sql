-- who is calling (contract §2): access token, admin role, or nobody
\set ECHO none
\i test/fresh.sql
\set ECHO all
SELECT regress.standard_roles();
\set VERBOSITY terse
SELECT profile.create_tenant('p-one') IS NOT NULL;
SELECT profile.create_tenant('p-two') IS NOT NULL;
SELECT profile.create_client('p-client') IS NOT NULL;
SELECT profile.grant_contract('p-client', 'create_customer_api');
SELECT profile.issue_access_token('p-client') AS any_tenant \gset
SELECT profile.issue_access_token('p-client', '{p-one}') AS one_tenant \gset
SELECT profile.issue_access_token('p-client', '{p-one,p-two}') AS two_tenants \gset
SELECT profile.issue_access_token('p-client', NULL, now() + interval '2 seconds') AS expiring \gset
SELECT profile.issue_access_token('p-client') AS revoked \gset
SELECT profile.revoke_access_token(:'revoked');

-- a token for any tenant, with tenantName or its alias tenant
SELECT regress.try(jsonb_build_object('accessTokenId', :'any_tenant', 'tenantName', 'p-one', 'email', 'a1@example.com'))->>'tenant';
SELECT regress.try(jsonb_build_object('access_token', :'any_tenant', 'tenant', 'p-two', 'email', 'a2@example.com'))->>'tenant';
-- a token limited to one tenant needs no tenantName
SELECT regress.try(jsonb_build_object('accessTokenId', :'one_tenant', 'email', 'a3@example.com'))->>'tenant';
-- ... and no other tenant
SELECT regress.try(jsonb_build_object('accessTokenId', :'one_tenant', 'tenantName', 'p-two', 'email', 'a4@example.com'));
-- a token for two tenants must name one
SELECT regress.try(jsonb_build_object('accessTokenId', :'two_tenants', 'email', 'a5@example.com'));
SELECT regress.try(jsonb_build_object('accessTokenId', :'two_tenants', 'tenantName', 'p-two', 'email', 'a5@example.com'))->>'tenant';
-- tokens that are unknown, revoked, expired or not strings
SELECT regress.try(jsonb_build_object('accessTokenId', 'pe_unknown', 'tenantName', 'p-one', 'email', 'b1@example.com'));
SELECT regress.try(jsonb_build_object('accessTokenId', :'revoked', 'tenantName', 'p-one', 'email', 'b2@example.com'));
SELECT regress.try(jsonb_build_object('accessTokenId', 42, 'tenantName', 'p-one', 'email', 'b3@example.com'));
SELECT regress.try(jsonb_build_object('accessTokenId', :'expiring', 'tenantName', 'p-one', 'email', 'b4@example.com'))->>'tenant';
SELECT pg_sleep(2.1);
SELECT regress.try(jsonb_build_object('accessTokenId', :'expiring', 'tenantName', 'p-one', 'email', 'b4@example.com'));
-- giving a key and its alias together is a validation error
SELECT regress.try(jsonb_build_object('accessTokenId', :'any_tenant', 'access_token', :'any_tenant', 'tenantName', 'p-one', 'email', 'b5@example.com'));
SELECT regress.try(jsonb_build_object('accessTokenId', :'any_tenant', 'tenantName', 'p-one', 'tenant', 'p-one', 'email', 'b5@example.com'));
-- unknown tenant, tenantName of the wrong type
SELECT regress.try(jsonb_build_object('accessTokenId', :'any_tenant', 'tenantName', 'nope', 'email', 'b6@example.com'));
SELECT regress.try(jsonb_build_object('accessTokenId', :'any_tenant', 'tenantName', 7, 'email', 'b6@example.com'));
-- the principal is checked before the tenant, the tenant before the fields
SELECT regress.try(jsonb_build_object('accessTokenId', 'pe_unknown', 'tenantName', 'nope', 'email', 'bad'));
SELECT regress.try(jsonb_build_object('accessTokenId', :'any_tenant', 'tenantName', 'nope', 'email', 'bad'));

-- a disabled tenant refuses every call, the admin's too
SELECT profile.alter_tenant('p-two', '{"enabled": false}')->'enabled';
SELECT regress.try(jsonb_build_object('accessTokenId', :'any_tenant', 'tenantName', 'p-two', 'email', 'c1@example.com'));
SELECT regress.try('{"tenantName": "p-two", "email": "c1@example.com"}');
SELECT profile.alter_tenant('p-two', '{"enabled": true}')->'enabled';
SELECT regress.try(jsonb_build_object('accessTokenId', :'any_tenant', 'tenantName', 'p-two', 'email', 'c1@example.com'))->>'tenant';

-- revoking a token that is cached takes effect at once
SELECT profile.revoke_access_token(:'any_tenant');
SELECT regress.try(jsonb_build_object('accessTokenId', :'any_tenant', 'tenantName', 'p-one', 'email', 'c2@example.com'));

-- admin principal: a superuser, or a role marked by grant_admin (and its
-- members); any tenant, no contract
SELECT regress.try('{"tenantName": "p-one", "email": "d1@example.com"}')->>'tenant';
SELECT regress.try('{"email": "d2@example.com"}');
SELECT profile.alter_tenant('p-one', '{"required_contract": "never-granted"}')->'settings'->'required_contract';
SET ROLE regress_admin;
SELECT regress.try('{"tenantName": "p-one", "email": "d3@example.com"}')->>'tenant';
RESET ROLE;
CREATE ROLE regress_member IN ROLE regress_admin LOGIN;
SET ROLE regress_member;
SELECT regress.try('{"tenantName": "p-one", "email": "d4@example.com"}')->>'tenant';
RESET ROLE;
SELECT data->>'email' AS email, CASE WHEN client = current_user THEN 'the superuser' ELSE client END AS client
  FROM profile.audit_events WHERE data->>'email' IN ('d1@example.com', 'd3@example.com', 'd4@example.com') ORDER BY id;

-- an API role needs a token; without one it is nobody
SET ROLE regress_api;
SELECT regress.try('{"tenantName": "p-one", "email": "e1@example.com"}');
SELECT regress.try(jsonb_build_object('accessTokenId', :'one_tenant', 'email', 'e1@example.com'));
RESET ROLE;
SELECT profile.alter_tenant('p-one', '{"required_contract": "create_customer_api"}')->'settings'->'required_contract';
SET ROLE regress_api;
SELECT regress.try(jsonb_build_object('accessTokenId', :'one_tenant', 'email', 'e1@example.com'))->>'email';
-- the caller still cannot read the tables
SELECT count(*) FROM profile_data.profiles;
RESET ROLE;

-- a role with neither token nor admin mark, even with EXECUTE
GRANT USAGE ON SCHEMA profile TO regress_nobody;
GRANT EXECUTE ON FUNCTION profile.create_profile(jsonb) TO regress_nobody;
SET ROLE regress_nobody;
SELECT regress.try('{"tenantName": "p-one", "email": "f1@example.com"}');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION profile.create_profile(jsonb) FROM regress_nobody;
REVOKE USAGE ON SCHEMA profile FROM regress_nobody;

-- nothing above that failed wrote anything
SELECT t.name, count(p.*) FROM profile_data.tenants t LEFT JOIN profile_data.profiles p ON p.tenant_id = t.id
 WHERE t.name LIKE 'p-%' GROUP BY 1 ORDER BY 1;
SELECT p.email FROM profile_data.profiles p JOIN profile_data.tenants t ON t.id = p.tenant_id
 WHERE t.name LIKE 'p-%' ORDER BY 1;

-- a long tenant name in a message is cut at a character, never inside one
SELECT m, octet_length(m) <= 64 + 30 AS short, convert_from(convert_to(m, 'UTF8'), 'UTF8') = m AS valid_utf8
  FROM (SELECT regress.try(jsonb_build_object('tenantName', repeat('a', 63) || 'éé', 'email', 'x@example.com'))->>'message') s(m);
