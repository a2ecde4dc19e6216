-- malformed stored rows: rows damaged behind the extension's back (by a
-- superuser, with constraints dropped and triggers disabled) give errors,
-- never a crash.  Each case runs in a transaction that is rolled back.
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('mal', '{"required_contract": null, "verification": true,
	"verification_url": "https://app.example/v", "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_profile('{"tenantName": "mal", "email": "m1@example.com"}')->>'id' AS p1 \gset
SELECT id AS outbox FROM profile_data.verification_outbox WHERE profile_id = :'p1' \gset
SELECT profile.seal_audit_chain('mal')->>'sealed';

-- an audit event whose hash is not 32 bytes (audit_events has no CHECK
-- constraint: the extension alone appends to it)
BEGIN;
ALTER TABLE profile_data.audit_events DISABLE TRIGGER append_only;
UPDATE profile_data.audit_events SET hash = '\x0102' WHERE profile_id = :'p1';
SELECT profile.verify_audit_chain('mal')->'broken'->>'reason';
-- a chain head that the next seal must read
SELECT profile.create_profile('{"tenantName": "mal", "email": "m5@example.com"}')->>'id' AS p5 \gset
UPDATE profile_data.audit_events SET hash = '\x0102' WHERE profile_id = :'p5';
SAVEPOINT s;
SELECT profile.seal_audit_chain('mal');
ROLLBACK TO s;
-- the next event of that chain needs its head
SELECT profile.update_profile(:'p1', '{"tenantName": "mal", "full_name": "M"}');
ROLLBACK;

-- a prev_hash of another length, even on a chain's first event (whose
-- prev_hash is null): the verifier reports the damage
BEGIN;
ALTER TABLE profile_data.audit_events DISABLE TRIGGER append_only;
UPDATE profile_data.audit_events SET prev_hash = '\x0102' WHERE profile_id = :'p1' AND chain_seq = 1;
SELECT profile.verify_audit_chain('mal')->'broken'->>'reason';
ROLLBACK;

-- erasing a profile whose events are damaged: erased all the same, and
-- not verified -- a salt of another length; an event whose hash is
-- damaged and whose content is already gone
BEGIN;
SELECT profile.create_profile('{"tenantName": "mal", "email": "m6@example.com"}')->>'id' AS p6 \gset
SELECT profile.update_profile(:'p6', '{"tenantName": "mal", "full_name": "Six"}') IS NOT NULL;
SELECT profile.update_profile(:'p6', '{"tenantName": "mal", "full_name": "Sixth"}') IS NOT NULL;
ALTER TABLE profile_data.audit_events DISABLE TRIGGER append_only;
UPDATE profile_data.audit_events SET salt = '\x010203' WHERE profile_id = :'p6' AND chain_seq = 1;
UPDATE profile_data.audit_events SET hash = '\x0102', data = NULL, salt = NULL, erased_at = now()
 WHERE profile_id = :'p6' AND chain_seq = 2;
ALTER TABLE profile_data.audit_events ENABLE TRIGGER append_only;
SET client_min_messages = error;	-- its warning names the profile
SELECT r - '{id,trace_id}'::text[] AS erased FROM profile.erase_profile(:'p6') r;
RESET client_min_messages;
SELECT chain_seq, data IS NULL AS no_data, salt IS NULL AS no_salt, erased_at IS NOT NULL AS erased
  FROM profile_data.audit_events WHERE profile_id = :'p6' ORDER BY chain_seq;
SELECT event, data->'verified' AS verified FROM profile_data.audit_events WHERE profile_id = :'p6' AND chain_seq = 4;
ROLLBACK;

-- a seal whose hash is not 32 bytes
BEGIN;
ALTER TABLE profile_data.audit_seals DROP CONSTRAINT audit_seals_hash_check;
ALTER TABLE profile_data.audit_seals DISABLE TRIGGER append_only;
UPDATE profile_data.audit_seals SET hash = '' WHERE seal_seq = 1;
SELECT profile.verify_audit_chain('mal')->'broken'->>'reason';
SELECT profile.create_profile('{"tenantName": "mal", "email": "m2@example.com"}') IS NOT NULL;
SELECT profile.seal_audit_chain('mal');
ROLLBACK;

-- columns our rows always have, null
BEGIN;
ALTER TABLE profile_data.audit_events ALTER COLUMN data DROP NOT NULL;
ALTER TABLE profile_data.audit_events DISABLE TRIGGER append_only;
UPDATE profile_data.audit_events SET data = NULL WHERE profile_id = :'p1';
SELECT profile.verify_audit_chain('mal')->'broken'->>'reason';
ROLLBACK;
BEGIN;
ALTER TABLE profile_data.verification_outbox ALTER COLUMN verification_url DROP NOT NULL;
UPDATE profile_data.verification_outbox SET verification_url = NULL, link = NULL WHERE id = :outbox;
SELECT * FROM profile.claim_verification_mails();
ROLLBACK;
BEGIN;
ALTER TABLE profile_data.verification_tokens ALTER COLUMN expires_at DROP NOT NULL;
UPDATE profile_data.verification_tokens SET expires_at = NULL WHERE profile_id = :'p1';
SELECT substring(link FROM 'token=(pv_[A-Za-z0-9_-]{43})') AS token FROM profile_data.verification_outbox WHERE id = :outbox \gset
SELECT profile.verify_profile(:'token');
ROLLBACK;

-- a tenant name longer than 64 bytes, or against the name rule
BEGIN;
ALTER TABLE profile_data.tenants DROP CONSTRAINT tenants_name_check;
UPDATE profile_data.tenants SET name = repeat('x', 100) WHERE name = 'mal';
SAVEPOINT s;
SELECT profile.resend_verification(:outbox);
ROLLBACK TO s;
SAVEPOINT s;
SELECT * FROM profile.claim_verification_mails();
ROLLBACK TO s;
SAVEPOINT s;
INSERT INTO profile_data.profiles (tenant_id, id, email)
	SELECT tenant_id, gen_random_uuid(), 'direct@example.com' FROM profile_data.profiles WHERE id = :'p1';
ROLLBACK TO s;
SELECT profile.verify_profile(:'token');
ROLLBACK;
BEGIN;
ALTER TABLE profile_data.tenants DROP CONSTRAINT tenants_name_check;
UPDATE profile_data.tenants SET name = 'MAL with spaces' WHERE name = 'mal';
SELECT * FROM profile.claim_verification_mails();
ROLLBACK;

-- settings that break a rule
BEGIN;
UPDATE profile_data.tenants SET settings = '{"rate_limit": "fast"}' WHERE name = 'mal';
SELECT profile.create_profile('{"tenantName": "mal", "email": "m3@example.com"}');
ROLLBACK;
BEGIN;
UPDATE profile_data.tenants SET settings = '[]' WHERE name = 'mal';
SELECT profile.create_profile('{"tenantName": "mal", "email": "m3@example.com"}');
ROLLBACK;

-- token hashes of another length match nothing
BEGIN;
ALTER TABLE profile_data.access_tokens DROP CONSTRAINT access_tokens_token_hash_check;
SELECT profile.create_client('mal-app') IS NOT NULL;
SELECT profile.issue_access_token('mal-app') AS tok \gset
UPDATE profile_data.access_tokens SET token_hash = '\x00';
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'mal', 'email', 'm4@example.com'));
ROLLBACK;

-- nothing was left behind, and the server is still up
SELECT count(*) AS profiles FROM profile_data.profiles p JOIN profile_data.tenants t ON t.id = p.tenant_id WHERE t.name = 'mal';
SELECT profile.verify_audit_chain('mal')->>'ok' AS ok;

-- a profile row with a null where our rows never have one
BEGIN;
ALTER TABLE profile_data.profiles ALTER COLUMN state DROP NOT NULL;
ALTER TABLE profile_data.profiles DISABLE TRIGGER USER;
UPDATE profile_data.profiles SET state = NULL WHERE id = :'p1';
ALTER TABLE profile_data.profiles ENABLE TRIGGER USER;
SELECT profile.update_profile(:'p1', '{"tenantName": "mal", "full_name": "X"}');
ROLLBACK;
SELECT profile.verify_audit_chain('mal')->>'ok' AS still_ok;
