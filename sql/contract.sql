-- the tenant's required contract (contract §1 and §2)
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('k-default') IS NOT NULL;
SELECT profile.create_tenant('k-custom', '{"required_contract": "premium"}') IS NOT NULL;
SELECT profile.create_tenant('k-open', '{"required_contract": null}') IS NOT NULL;
SELECT profile.create_client('k-client') IS NOT NULL;
SELECT profile.issue_access_token('k-client') AS tok \gset

-- no contract at all
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-default', 'email', 'k1@example.com'));
-- no contract needed
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-open', 'email', 'k1@example.com'))->>'tenant';
-- not yet valid
SELECT profile.grant_contract('k-client', 'create_customer_api', now() + interval '1 hour');
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-default', 'email', 'k2@example.com'));
-- no longer valid
SELECT profile.grant_contract('k-client', 'create_customer_api', now() - interval '2 days', now() - interval '1 day');
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-default', 'email', 'k2@example.com'));
-- valid now, with an end in the future
SELECT profile.grant_contract('k-client', 'create_customer_api', now() - interval '1 day', now() + interval '1 day');
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-default', 'email', 'k2@example.com'))->>'tenant';
-- ended: refused from then on, even though the window is still open
SELECT profile.end_contract('k-client', 'create_customer_api');
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-default', 'email', 'k3@example.com'));
-- granted again
SELECT profile.grant_contract('k-client', 'create_customer_api');
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-default', 'email', 'k3@example.com'))->>'tenant';
-- another tenant asks for another contract
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-custom', 'email', 'k4@example.com'));
SELECT profile.grant_contract('k-client', 'premium');
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-custom', 'email', 'k4@example.com'))->>'tenant';
-- the contract is checked before the fields
SELECT profile.end_contract('k-client', 'premium');
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-custom', 'email', 'not an email'));

-- a contract that is valid only inside the transaction's now()
BEGIN;
SELECT profile.grant_contract('k-client', 'premium', now(), now() + interval '1 microsecond');
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-custom', 'email', 'k5@example.com'))->>'tenant';
ROLLBACK;
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'k-custom', 'email', 'k5@example.com'))->'detail'->>'code';

SELECT p.email FROM profile_data.profiles p JOIN profile_data.tenants t ON t.id = p.tenant_id
 WHERE t.name LIKE 'k-%' ORDER BY 1;
