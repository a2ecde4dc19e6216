-- rows the API stores without a statement (src/base/rowinsert.c) are seen
-- by what sees a statement's rows: users' own row and statement triggers,
-- logical decoding; a table that needs a statement (a rule, row-level
-- security, a column default of its own) gets one
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('ri', '{"required_contract": null}') IS NOT NULL;
CREATE TABLE regress.seen (n serial, what text);

-- users' own triggers on the tables an API call writes
CREATE FUNCTION regress.saw() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_LEVEL = 'ROW' THEN
		INSERT INTO regress.seen (what) VALUES (format('%s %s %s row: %s', TG_TABLE_NAME, TG_WHEN, TG_OP,
			coalesce(to_jsonb(NEW)->>'email', to_jsonb(NEW)->>'event', 'an id')));
		IF TG_TABLE_NAME = 'profiles' AND TG_WHEN = 'BEFORE' THEN
			NEW.full_name := 'set by a trigger';
		END IF;
		RETURN NEW;
	END IF;
	INSERT INTO regress.seen (what) VALUES (format('%s %s %s statement', TG_TABLE_NAME, TG_WHEN, TG_OP));
	RETURN NULL;
END
$$;
CREATE TRIGGER zz_before_row BEFORE INSERT ON profile_data.profiles FOR EACH ROW EXECUTE FUNCTION regress.saw();
CREATE TRIGGER zz_after_row AFTER INSERT ON profile_data.profiles FOR EACH ROW EXECUTE FUNCTION regress.saw();
CREATE TRIGGER zz_before_statement BEFORE INSERT ON profile_data.profiles FOR EACH STATEMENT EXECUTE FUNCTION regress.saw();
CREATE TRIGGER zz_after_statement AFTER INSERT ON profile_data.profiles FOR EACH STATEMENT EXECUTE FUNCTION regress.saw();
CREATE TRIGGER zz_after_row AFTER INSERT ON profile_data.audit_events FOR EACH ROW EXECUTE FUNCTION regress.saw();
CREATE TRIGGER zz_after_row AFTER INSERT ON profile_data.profile_ids FOR EACH ROW EXECUTE FUNCTION regress.saw();
SELECT profile.create_profile('{"tenantName": "ri", "email": "one@example.com"}')->>'full_name' AS returned_full_name;
SELECT what FROM regress.seen ORDER BY n;
-- the row holds what the BEFORE trigger set; the call's result and its
-- profile.created event hold what the call wrote (README, Audit trail)
SELECT p.full_name AS stored, e.data->>'full_name' AS in_event
  FROM profile_data.profiles p JOIN profile_data.audit_events e ON e.profile_id = p.id
 WHERE p.email = 'one@example.com';
-- a batch: the statement triggers once, the row triggers per row; a
-- registration: every event
TRUNCATE regress.seen;
SELECT profile.create_profiles('{"tenantName": "ri", "profiles": [{"email": "b1@example.com"},
	{"email": "b2@example.com"}, {"email": "one@example.com"}]}')->>'created' AS created;
SELECT what, count(*) FROM regress.seen GROUP BY what ORDER BY min(n);
TRUNCATE regress.seen;
SELECT profile.register_user_profile('00000000-0000-7000-8000-0000000000a1', '{"tenantName": "ri",
	"countryCode": "FI", "sdkAuditEvents": [{"dateTime": "2026-01-01T00:00:00Z", "logEvent": "a"},
	{"dateTime": "2026-01-01T00:00:01Z", "logEvent": "b"}]}')->>'audit_events' AS sdk_events;
SELECT what, count(*) FROM regress.seen GROUP BY what ORDER BY min(n);
DROP TRIGGER zz_before_row ON profile_data.profiles;
DROP TRIGGER zz_after_row ON profile_data.profiles;
DROP TRIGGER zz_before_statement ON profile_data.profiles;
DROP TRIGGER zz_after_statement ON profile_data.profiles;
DROP TRIGGER zz_after_row ON profile_data.audit_events;
DROP TRIGGER zz_after_row ON profile_data.profile_ids;
TRUNCATE regress.seen;

-- logical decoding sees the three rows of a call
SELECT 'init' FROM pg_create_logical_replication_slot('regress_rowinsert', 'test_decoding');
SELECT profile.create_profile('{"tenantName": "ri", "email": "two@example.com"}') IS NOT NULL;
SELECT substring(data from '^table [a-z_.]+: [A-Z]+') AS change, count(*)
  FROM pg_logical_slot_get_changes('regress_rowinsert', NULL, NULL)
 WHERE data LIKE 'table %'
 GROUP BY 1 ORDER BY 1;
SELECT pg_drop_replication_slot('regress_rowinsert');

-- a rule: the call uses a statement, which the rule rewrites
CREATE RULE regress_events AS ON INSERT TO profile_data.audit_events
	DO ALSO INSERT INTO regress.seen (what) VALUES ('rule on audit_events: ' || NEW.event);
SELECT profile.create_profile('{"tenantName": "ri", "email": "three@example.com"}') IS NOT NULL;
SELECT what FROM regress.seen ORDER BY n;
DROP RULE regress_events ON profile_data.audit_events;

-- a rule on profiles: one profile goes in by a statement the rule
-- rewrites; a batch needs INSERT ... ON CONFLICT, which PostgreSQL refuses
-- on a table with rules (README, Troubleshooting): it fails, writing nothing
CREATE RULE regress_profiles AS ON INSERT TO profile_data.profiles
	DO ALSO INSERT INTO regress.seen (what) VALUES ('rule on profiles: ' || NEW.email);
SELECT profile.create_profile('{"tenantName": "ri", "email": "rule1@example.com"}') IS NOT NULL;
SELECT profile.create_profiles('{"tenantName": "ri", "profiles": [{"email": "rule2@example.com"}]}');
SELECT email FROM profile_data.profiles WHERE email LIKE 'rule_@example.com';
SELECT what FROM regress.seen WHERE what LIKE 'rule on profiles%' ORDER BY n;
DROP RULE regress_profiles ON profile_data.profiles;

-- a column of one's own with a default: a statement, which fills it
ALTER TABLE profile_data.profiles ADD COLUMN regress_source text DEFAULT 'api';
SELECT profile.create_profile('{"tenantName": "ri", "email": "five@example.com"}') IS NOT NULL;
-- a batch too: its statement names the API's columns, the others default
SELECT profile.create_profiles('{"tenantName": "ri", "profiles": [{"email": "five-b@example.com"}]}')->>'created' AS created;
SELECT email, regress_source FROM profile_data.profiles WHERE email LIKE 'five%' ORDER BY email;
ALTER TABLE profile_data.profiles DROP COLUMN regress_source;
-- and without it, again without a statement
SELECT profile.create_profile('{"tenantName": "ri", "email": "six@example.com"}') IS NOT NULL;

-- a column of another type than the API's values: a statement, which
-- converts them (here with the session's time zone)
SET timezone = 'Europe/Helsinki';
ALTER TABLE profile_data.profile_ids ALTER COLUMN claimed_at TYPE timestamp;
SELECT profile.create_profile('{"tenantName": "ri", "email": "seven@example.com"}')->>'id' AS seven \gset
SELECT pg_typeof(i.claimed_at), i.claimed_at = p.created_at::timestamp AS converted
  FROM profile_data.profile_ids i JOIN profile_data.profiles p USING (id) WHERE id = :'seven';
ALTER TABLE profile_data.profile_ids ALTER COLUMN claimed_at TYPE timestamptz;
RESET timezone;
-- a batch's rows travel as the table's row type, which cannot convert: a
-- column of profiles of another type is an error, and nothing is written
ALTER TABLE profile_data.profiles ALTER COLUMN api_mark TYPE varchar(200);
SELECT * FROM regress.counts() \gset before_
SELECT regress.err($$SELECT profile.create_profiles('{"tenantName": "ri", "profiles": [{"email": "eight@example.com", "full_name": "Eight"}]}')$$) AS batch;
SELECT profiles - :before_profiles AS profiles_written, events - :before_events AS events_written
  FROM regress.counts();
ALTER TABLE profile_data.profiles ALTER COLUMN api_mark TYPE text;

-- a trigger of one's own that skips a row the API must store: an error,
-- and nothing of the call is written
CREATE FUNCTION regress.skip() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
SELECT * FROM regress.counts() \gset before_
CREATE TRIGGER zz_skip BEFORE INSERT ON profile_data.audit_events FOR EACH ROW EXECUTE FUNCTION regress.skip();
SELECT regress.try('{"tenantName": "ri", "email": "skipped1@example.com"}');
DROP TRIGGER zz_skip ON profile_data.audit_events;
CREATE TRIGGER zz_skip BEFORE INSERT ON profile_data.profiles FOR EACH ROW EXECUTE FUNCTION regress.skip();
SELECT regress.try('{"tenantName": "ri", "email": "skipped2@example.com"}');
SELECT regress.err($$SELECT profile.create_profiles('{"tenantName": "ri", "profiles": [{"email": "skipped3@example.com"}]}')$$) AS batch;
DROP TRIGGER zz_skip ON profile_data.profiles;
SELECT profiles - :before_profiles AS profiles_written, events - :before_events AS events_written
  FROM regress.counts();

-- an error a user's trigger raises while a batch's rows go in, caught by
-- an exception block around the call: the block's own writes are rolled
-- back with it, and the transaction goes on (the batch's subtransaction
-- was once left open, and the block rolled back that one instead)
CREATE TABLE regress.block_log (what text);
CREATE FUNCTION regress.boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.email = 'boom@example.com' THEN
		RAISE EXCEPTION 'boom';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER zz_boom BEFORE INSERT ON profile_data.profiles FOR EACH ROW EXECUTE FUNCTION regress.boom();
BEGIN;
DO $$
BEGIN
	INSERT INTO regress.block_log VALUES ('before the block');
	BEGIN
		INSERT INTO regress.block_log VALUES ('in the block');
		PERFORM profile.create_profiles('{"tenantName": "ri", "profiles": [{"email": "boom@example.com"}]}');
	EXCEPTION WHEN OTHERS THEN
		INSERT INTO regress.block_log VALUES ('caught: ' || SQLERRM);
	END;
END
$$;
SELECT what FROM regress.block_log ORDER BY what;
SELECT count(*) AS boom_profiles FROM profile_data.profiles WHERE email = 'boom@example.com';
COMMIT;
SELECT what FROM regress.block_log ORDER BY what;
DROP TRIGGER zz_boom ON profile_data.profiles;

-- under REPEATABLE READ, a user's trigger sees what the transaction wrote
-- before the call: the rows' snapshot has the current command id, as a
-- statement's has (a STABLE trigger reads through it)
CREATE TABLE regress.rr_rows (n int);
CREATE FUNCTION regress.rr_seen() RETURNS trigger STABLE LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'the trigger sees % rows of regress.rr_rows', (SELECT count(*) FROM regress.rr_rows);
	RETURN NEW;
END
$$;
CREATE TRIGGER zz_rr BEFORE INSERT ON profile_data.profiles FOR EACH ROW EXECUTE FUNCTION regress.rr_seen();
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS rows_before FROM regress.rr_rows;
INSERT INTO regress.rr_rows VALUES (1), (2);
SELECT profile.create_profile('{"tenantName": "ri", "email": "rr1@example.com"}') IS NOT NULL;
SELECT profile.create_profiles('{"tenantName": "ri", "profiles": [{"email": "rr2@example.com"}]}')->>'created' AS created;
COMMIT;
DROP TRIGGER zz_rr ON profile_data.profiles;

-- a batch as the first call of a session (its row writer's columns are
-- set up on first use; early 1.1 crashed here)
\c -
SELECT profile.create_profiles('{"tenantName": "ri", "profiles": [{"email": "first1@example.com"},
	{"email": "first2@example.com"}]}')->>'created' AS created;

-- every profile of this file: one claim, one profile.created event each;
-- the chains verify
SELECT count(*) AS profiles,
	   (SELECT count(*) FROM profile_data.profile_ids) AS claims,
	   (SELECT count(*) FROM profile_data.audit_events WHERE event = 'profile.created') AS created_events,
	   (SELECT count(*) FROM profile_data.audit_events) AS events
  FROM profile_data.profiles;
SELECT profile.verify_audit_chain('ri')->>'ok' AS chains_ok;
