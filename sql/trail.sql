-- the audit trail on every path, direct writes under the same rules, append-only
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
-- a known tenant id, for COPY's data
SELECT setval('profile_data.tenant_id_seq', 1000) IS NOT NULL;
SELECT profile.create_tenant('tr', '{"required_contract": null, "allowed_roles": ["member", "editor"]}')->'id';
SELECT id AS tr FROM profile_data.tenants WHERE name = 'tr' \gset
CREATE ROLE regress_dba SUPERUSER LOGIN;
SET ROLE regress_dba;

-- direct INSERT: validated, normalised, audited with the role as client
INSERT INTO profile_data.profiles (tenant_id, id, username, email, mobile_phone_number, country_code)
	VALUES (:tr, '00000000-0000-7000-8000-0000000000a1', 'direct.one', 'Direct.One@EXAMPLE.com', '0049 658 245699', 'de');
SELECT username, email, mobile_phone_number, country_code FROM profile_data.profiles WHERE id = '00000000-0000-7000-8000-0000000000a1';
-- direct UPDATE: the changed fields, old and new; the password only as a fact
UPDATE profile_data.profiles SET full_name = 'Direct One', email = 'one@Example.ORG',
	password_hash = '$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'
 WHERE id = '00000000-0000-7000-8000-0000000000a1';
-- verified: profile.verified
UPDATE profile_data.profiles SET verified = true WHERE id = '00000000-0000-7000-8000-0000000000a1';
-- COPY goes through the same triggers
COPY profile_data.profiles (tenant_id, id, email) FROM stdin;
1001	00000000-0000-7000-8000-0000000000a2	copied@example.com
\.
SELECT count(*) FROM profile_data.profiles WHERE email = 'copied@example.com';
-- DELETE: profile.deleted, with the row (never the password hash)
DELETE FROM profile_data.profiles WHERE id = '00000000-0000-7000-8000-0000000000a1';
RESET ROLE;
SELECT chain_seq, event, client, source, trace_id IS NOT NULL AS traced,
	   CASE WHEN event IN ('profile.created', 'profile.deleted') THEN data->>'email' ELSE data::text END AS data,
	   data::text LIKE '%argon2%' AS leaks_hash
  FROM profile_data.audit_events WHERE profile_id = '00000000-0000-7000-8000-0000000000a1' ORDER BY chain_seq;
SELECT event, client FROM profile_data.audit_events WHERE profile_id = '00000000-0000-7000-8000-0000000000a2';

-- direct writes break the same rules as the API, with the same errors
SET ROLE regress_dba;
SELECT * FROM regress.counts() \gset before_
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, email) VALUES (%s, gen_random_uuid(), 'not an email')$$, :tr));
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, mobile_phone_number) VALUES (%s, gen_random_uuid(), '+999 123')$$, :tr));
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, email) VALUES (%s, gen_random_uuid(), 'DIRECT.two', 'a@example.com'), (%s, gen_random_uuid(), 'direct.TWO', 'b@example.com')$$, :tr, :tr));
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, email, language, roles, role_ids, access_level, attributes, password_hash)
	VALUES (%s, gen_random_uuid(), 'x y', 'ok@example.com', 'EN', '{member,owner}', '{1,-1}', 7, '[1]', 'plain-password')$$, :tr));
SELECT regress.err($$INSERT INTO profile_data.profiles (tenant_id, id, email) VALUES (999999, gen_random_uuid(), 'z@example.com')$$);
SELECT regress.err($$UPDATE profile_data.profiles SET email = 'copied@example' WHERE email = 'copied@example.com'$$);
SELECT regress.err($$UPDATE profile_data.profiles SET roles = '{boss}' WHERE email = 'copied@example.com'$$);
-- a duplicate made by an UPDATE
INSERT INTO profile_data.profiles (tenant_id, id, username, email) VALUES (:tr, '00000000-0000-7000-8000-0000000000a3', 'third.one', 'third@example.com');
SELECT regress.err($$UPDATE profile_data.profiles SET email = 'COPIED@example.com' WHERE id = '00000000-0000-7000-8000-0000000000a3'$$);
-- updating a row to its own values is no conflict
-- (written: the third profile, and its two events)
UPDATE profile_data.profiles SET email = 'third@example.com', status_comment = 'same email' WHERE id = '00000000-0000-7000-8000-0000000000a3';
SELECT profiles - :before_profiles AS profiles_written, events - :before_events AS events_written FROM regress.counts();

-- append-only, for the owner and superusers too
SELECT profile.seal_audit_chain('tr')->'heads';
SELECT regress.err($$UPDATE profile_data.audit_events SET client = 'someone else'$$);
SELECT regress.err($$DELETE FROM profile_data.audit_events$$);
SELECT regress.err($$TRUNCATE profile_data.audit_events$$);
SELECT regress.err($$UPDATE profile_data.audit_seals SET heads = 0$$);
SELECT regress.err($$TRUNCATE profile_data.audit_seal_heads$$);
-- profiles are deleted row by row, so each deletion is audited
SELECT regress.err($$TRUNCATE profile_data.profiles$$);
RESET ROLE;
\set VERBOSITY default
UPDATE profile_data.audit_events SET client = 'x';
\set VERBOSITY terse
DROP ROLE regress_dba;
SELECT profile.verify_audit_chain('tr');
