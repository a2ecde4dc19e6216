-- the seed documents' example requests (doc/contract.md, "the seeds"), each with the
-- access token and tenant that the contract adds
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse

-- Crafter Profile (004): POST /api/1/profile/create.  Its form sends
-- "verificationUrl" without a value: in JSON that is null, "not given".
SELECT profile.create_tenant('sample-tenant') IS NOT NULL;
SELECT profile.create_client('crafter-app') IS NOT NULL;
SELECT profile.grant_contract('crafter-app', 'create_customer_api');
SELECT profile.issue_access_token('crafter-app', '{sample-tenant}') AS crafter \gset
SELECT regress.try(jsonb_build_object(
	'accessTokenId', :'crafter',
	'tenantName', 'sample-tenant',
	'username', 'john.doe',
	'password', 'passw0rd',
	'email', 'john.doe@example.com',
	'enabled', 'false',
	'attributes', '{"firstName":"John","lastName":"Doe"}',
	'verificationUrl', NULL));
-- the same again: PROFILE_EXISTS
SELECT regress.try(jsonb_build_object('accessTokenId', :'crafter', 'tenantName', 'sample-tenant',
	'username', 'john.doe', 'password', 'passw0rd', 'email', 'john.doe@example.com', 'enabled', 'false'));

-- Ocamba Hood (003): POST /v1/hood/profiles (the page hid the address; any real one will do)
SELECT profile.create_tenant('hood') IS NOT NULL;
SELECT profile.create_client('ocamba') IS NOT NULL;
SELECT profile.grant_contract('ocamba', 'create_customer_api');
SELECT profile.issue_access_token('ocamba', '{hood}') AS ocamba \gset
SELECT regress.try(jsonb_build_object('accessTokenId', :'ocamba') ||
	'{"mobile_phone_number": "+49658245684", "email": "john.doe@example.com", "full_name": "John Doe"}');
-- either an email or a mobile phone number is required
SELECT regress.try(jsonb_build_object('accessTokenId', :'ocamba') || '{"full_name": "John Doe"}');

-- CMS Profile resource (002): the typed field set.  The schema has neither
-- email nor phone, and contact_required holds for every tenant, so the
-- request carries an email besides the CMS fields.
SELECT profile.create_tenant('cms') IS NOT NULL;
SELECT profile.create_client('cms-app') IS NOT NULL;
SELECT profile.grant_contract('cms-app', 'create_customer_api');
SELECT profile.issue_access_token('cms-app', '{cms}') AS cms \gset
SELECT regress.try(jsonb_build_object('accessTokenId', :'cms') || '{
	"login": "jane.cms",
	"password": "correct horse",
	"email": "jane@example.com",
	"access_level": 100,
	"status": "E",
	"status_comment": "imported",
	"referer": "https://partner.example/",
	"language": "en",
	"membership_id": 12,
	"pending_membership_id": null,
	"force_change_password": true,
	"role_ids": [1, 2],
	"social_login_provider": "google",
	"social_login_id": "g-123",
	"ga_client_id": "GA1.2.345.678",
	"stored_selectors": ["#header", ".promo"],
	"concierge_user_id": null,
	"mail_chimp_lists": [10],
	"mail_chimp_interests": [20, 21],
	"mail_chimp_segments": [],
	"stripe_customer_id": "cus_ABC"}');
-- the CMS limits: 422 with every broken rule
SELECT regress.try(jsonb_build_object('accessTokenId', :'cms') ||
	'{"login": "jd", "password": "short", "email": "j2@example.com", "access_level": 1, "status": "X", "language": "eng", "membership_id": -1}');

-- Ropo One (000): POST /profile/createprofile, gated by the create_customer_api contract
SELECT profile.create_tenant('ropo', '{"complete_fields": ["full_name", "email", "mobile_phone_number"]}') IS NOT NULL;
SELECT profile.create_client('ropo-partner') IS NOT NULL;
SELECT profile.issue_access_token('ropo-partner', '{ropo}') AS ropo \gset
-- no active contract: 403
SELECT regress.try(jsonb_build_object('accessTokenId', :'ropo') ||
	'{"full_name": "Maija Meikäläinen", "email": "maija@example.fi", "mobile_phone_number": "+358 40 123 4567"}');
SELECT profile.grant_contract('ropo-partner', 'create_customer_api');
-- a complete profile: customer created
SELECT regress.try(jsonb_build_object('accessTokenId', :'ropo') ||
	'{"full_name": "Maija Meikäläinen", "email": "maija@example.fi", "mobile_phone_number": "+358 40 123 4567"}');
-- incomplete data, in a tenant that keeps incomplete profiles: stored, with a wizard URL
SELECT profile.alter_tenant('ropo', '{"incomplete_profiles": true, "wizard_url": "https://one.ropo.example/onboarding/{id}"}')->'settings'->'incomplete_profiles';
SELECT regress.try(jsonb_build_object('accessTokenId', :'ropo') || '{"email": "matti@example.fi"}');
-- the contract ends: 403 again
SELECT profile.end_contract('ropo-partner', 'create_customer_api');
SELECT regress.try(jsonb_build_object('accessTokenId', :'ropo') || '{"email": "liisa@example.fi"}')->'detail';
