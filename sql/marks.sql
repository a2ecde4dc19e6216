-- row marks (1.1): how the row triggers know an API call's rows, wherever
-- they fire (audit/audit.c, "Marks"); profile.distribute() off Citus
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT regress.standard_roles();
SELECT profile.create_tenant('mk', '{"required_contract": null, "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_client('mk-app') IS NOT NULL;
SELECT profile.issue_access_token('mk-app', '{mk}') AS tok \gset
SELECT id AS mk FROM profile_data.tenants WHERE name = 'mk' \gset

-- API writes: the call's client and trace id on every event, no mark stored
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'mk',
	'username', 'marked.one', 'email', 'marked.one@example.com')) AS r1 \gset
SELECT (:'r1'::jsonb)->>'id' AS p1 \gset
SELECT profile.update_profile(:'p1', jsonb_build_object('accessTokenId', :'tok', 'full_name', 'Marked One')) AS r2 \gset
SELECT profile.delete_profile(:'p1', jsonb_build_object('accessTokenId', :'tok')) AS r3 \gset
SELECT chain_seq, event, client,
	   trace_id = ((CASE chain_seq WHEN 1 THEN :'r1' WHEN 2 THEN :'r2' ELSE :'r3' END)::jsonb->>'trace_id')::uuid AS calls_trace,
	   data ? 'api_mark' OR data->'changes' ? 'api_mark' AS shows_mark
  FROM profile_data.audit_events WHERE profile_id = :'p1' ORDER BY chain_seq;
SELECT count(*) AS stored_marks FROM profile_data.profiles WHERE api_mark IS NOT NULL;

-- an API update, then a direct update in the same transaction: the
-- direct one is the role's, with a trace id of its own
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'mk',
	'username', 'marked.two', 'email', 'marked.two@example.com')) ->>'id' AS p2 \gset
BEGIN;
SELECT profile.update_profile(:'p2', jsonb_build_object('accessTokenId', :'tok', 'full_name', 'Two')) ->> 'trace_id' AS t2 \gset
UPDATE profile_data.profiles SET full_name = 'Direct Two' WHERE id = :'p2';
DELETE FROM profile_data.profiles WHERE id = :'p2';
COMMIT;
SELECT chain_seq, event, client, trace_id = :'t2'::uuid AS api_trace
  FROM profile_data.audit_events WHERE profile_id = :'p2' ORDER BY chain_seq;

-- an erasure rolled back to a savepoint leaves no mark behind: the direct
-- DELETE after it is audited as the role's
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'mk',
	'username', 'marked.three', 'email', 'marked.three@example.com')) ->>'id' AS p3 \gset
BEGIN;
SAVEPOINT s;
SELECT profile.erase_profile(:'p3', jsonb_build_object('accessTokenId', :'tok'))->'erased' AS erased;
ROLLBACK TO SAVEPOINT s;
DELETE FROM profile_data.profiles WHERE id = :'p3';
COMMIT;
SELECT chain_seq, event, client FROM profile_data.audit_events WHERE profile_id = :'p3' ORDER BY chain_seq;
SELECT profile.verify_audit_chain('mk')->'ok' AS chain_ok;

-- nobody but the owner of profile_data may mark a row; a mark must be one
CREATE ROLE regress_writer LOGIN;
GRANT USAGE ON SCHEMA profile_data TO regress_writer;
GRANT INSERT, UPDATE, SELECT ON profile_data.profiles TO regress_writer;
SELECT * FROM regress.counts() \gset before_
SET ROLE regress_writer;
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, api_mark)
	VALUES (%s, gen_random_uuid(), 'forged', E'pm1\t00000000-0000-4000-8000-000000000000\t2\tsomeone')$$, :mk));
-- without a mark the writer's rows are checked and audited as its own
INSERT INTO profile_data.profiles (tenant_id, id, username) VALUES (:mk, '00000000-0000-4000-8000-0000000000c1', 'Writer.Row');
SELECT regress.err($$UPDATE profile_data.profiles SET api_mark = E'pm1\t00000000-0000-4000-8000-000000000000\t4\tx' WHERE id = '00000000-0000-4000-8000-0000000000c1'$$);
RESET ROLE;
SELECT event, client FROM profile_data.audit_events WHERE profile_id = '00000000-0000-4000-8000-0000000000c1';
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, api_mark)
	VALUES (%s, gen_random_uuid(), 'badmark', 'not a mark')$$, :mk));
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, api_mark)
	VALUES (%s, gen_random_uuid(), 'badmark', E'pm1\tnot-a-uuid\t0\tx')$$, :mk));
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, api_mark)
	VALUES (%s, gen_random_uuid(), 'badmark', E'pm1\t00000000-0000-4000-8000-000000000000\t999\tx')$$, :mk));
-- with the trigger disabled, the constraint keeps marks out of the table
ALTER TABLE profile_data.profiles DISABLE TRIGGER check_row;
INSERT INTO profile_data.profiles (tenant_id, id, username, api_mark)
	VALUES (:mk, gen_random_uuid(), 'badmark', 'x');
ALTER TABLE profile_data.profiles ENABLE TRIGGER check_row;
SELECT * FROM regress.counts() \gset after_
SELECT :after_profiles - :before_profiles AS new_profiles, :after_events - :before_events AS new_events;

-- a direct write and an API call in one statement (the call in RETURNING):
-- the statement's own events are recorded after the call's, as its own
GRANT DELETE ON profile_data.profiles TO regress_writer;
SELECT profile.grant_api('regress_writer');
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'mk',
	'username', 'marked.four', 'email', 'marked.four@example.com')) ->>'id' AS p4 \gset
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'mk',
	'username', 'marked.five', 'email', 'marked.five@example.com')) ->>'id' AS p5 \gset
SET ROLE regress_writer;
UPDATE profile_data.profiles SET full_name = 'Direct Four' WHERE id = :'p4'
	RETURNING profile.update_profile(id, jsonb_build_object('accessTokenId', :'tok', 'language', 'en'))->>'language';
UPDATE profile_data.profiles SET full_name = 'Direct Five' WHERE id = :'p5'
	RETURNING profile.delete_profile(id, jsonb_build_object('accessTokenId', :'tok'))->>'deleted';
WITH ins AS (INSERT INTO profile_data.profiles (tenant_id, id, username, email)
			 VALUES (:mk, '00000000-0000-4000-8000-0000000000c6', 'writer.six', 'six@example.com') RETURNING id)
SELECT profile.update_profile(id, jsonb_build_object('accessTokenId', :'tok', 'language', 'de'))->>'language' FROM ins;
-- an erasure while the statement's event waits: refused, nothing written
WITH ins AS (INSERT INTO profile_data.profiles (tenant_id, id, username, email)
			 VALUES (:mk, '00000000-0000-4000-8000-0000000000c7', 'writer.seven', 'seven@example.com') RETURNING id)
SELECT profile.erase_profile(id, jsonb_build_object('accessTokenId', :'tok'))->>'erased' FROM ins;
RESET ROLE;
SELECT CASE profile_id WHEN :'p4' THEN 'p4' WHEN :'p5' THEN 'p5'
	   ELSE right(profile_id::text, 2) END AS p, chain_seq, event, client,
	   coalesce(data->'changes', data - '{id,tenant_id,created_at,updated_at}'::text[]) AS what
  FROM profile_data.audit_events
 WHERE profile_id IN (:'p4', :'p5', '00000000-0000-4000-8000-0000000000c6', '00000000-0000-4000-8000-0000000000c7')
   AND chain_seq > 1 OR profile_id IN ('00000000-0000-4000-8000-0000000000c6', '00000000-0000-4000-8000-0000000000c7')
 ORDER BY p, chain_seq;
SELECT count(*) AS seven FROM profile_data.profiles WHERE username = 'writer.seven';

-- marks the owner writes: a client longer than ours, empty flags
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, api_mark)
	VALUES (%s, gen_random_uuid(), 'longmark', E'pm1\t00000000-0000-4000-8000-000000000000\t0\t' || repeat('a', 126) || 'é')$$, :mk));
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, api_mark)
	VALUES (%s, gen_random_uuid(), 'emptyflags', E'pm1\t00000000-0000-4000-8000-000000000000\t\tx')$$, :mk));
-- an error about the row never shows its mark
DO $$
DECLARE
	d text;
BEGIN
	INSERT INTO profile_data.profiles (tenant_id, id, username, api_mark)
		VALUES (NULL, '00000000-0000-4000-8000-0000000000c8', 'nulltenant',
				E'pm1\t00000000-0000-4000-8000-000000000000\t0\tsecret-client');
EXCEPTION WHEN not_null_violation THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RAISE NOTICE 'not null violation; the detail shows the mark: %', d LIKE '%secret-client%';
END
$$;
REVOKE ALL ON profile_data.profiles FROM regress_writer;
REVOKE ALL ON SCHEMA profile_data FROM regress_writer;
DROP OWNED BY regress_writer;
DROP ROLE regress_writer;

-- content removed behind erase_profile's back, in the shape of an erasure:
-- the erasure record does not vouch for it, and the chain stays broken
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'mk',
	'username', 'marked.nine', 'email', 'marked.nine@example.com')) ->>'id' AS p9 \gset
SELECT profile.update_profile(:'p9', jsonb_build_object('accessTokenId', :'tok', 'full_name', 'Nine')) IS NOT NULL;
UPDATE profile_data.audit_events SET data = NULL, salt = NULL, erased_at = now(),
	content_hash = sha256(convert_to('profile_ext audit content v2', 'UTF8') || '\x00'::bytea || salt
		|| int8send(octet_length(convert_to(data::text, 'UTF8'))) || convert_to(data::text, 'UTF8'))
 WHERE profile_id = :'p9' AND chain_seq = 2;
SELECT profile.verify_audit_chain('mk')->'broken'->>'reason' AS before_erasure;
SET client_min_messages = error;	-- its WARNING names the random id
SELECT profile.erase_profile(:'p9', jsonb_build_object('accessTokenId', :'tok'))->>'erased' AS erased;
RESET client_min_messages;
SELECT data->'verified' AS record_vouches FROM profile_data.audit_events WHERE profile_id = :'p9' AND event = 'profile.erased';
SELECT profile.verify_audit_chain('mk')->'broken'->>'reason' AS after_erasure;

-- profile.distribute(): a superuser's, on a Citus coordinator only
SET ROLE regress_admin;
SELECT regress.err('SELECT profile.distribute()');
RESET ROLE;
SET ROLE regress_nobody;
SELECT regress.err('SELECT profile.distribute()');
RESET ROLE;
SELECT regress.err('SELECT profile.distribute()');
