-- PostgREST mode (contract §5): with request.method set, errors carry
-- SQLSTATE PGRST and the HTTP response; successes set response.status
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('rest', '{"required_contract": null, "complete_fields": ["full_name"],
	"incomplete_profiles": true, "wizard_url": "https://w.example/{id}"}') IS NOT NULL;

-- regress.http (test/fresh.sql) calls as PostgREST does
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
