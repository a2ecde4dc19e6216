-- setup: create the extension and the helpers the other files use
CREATE EXTENSION profile_ext;

-- roles left behind by an interrupted earlier run
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_admin, regress_api, regress_nobody, regress_member;
RESET client_min_messages;

-- fast password hashing for tests (the default is Argon2id with 64 MiB)
DO $$
BEGIN
	EXECUTE format('ALTER DATABASE %I SET profile_ext.password_memlimit = %L',
				   current_database(), '64kB');
	EXECUTE format('ALTER DATABASE %I SET profile_ext.password_opslimit = 1',
				   current_database());
END
$$;

CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;

-- an error as {error, message, detail}, the detail's trace_id removed
CREATE FUNCTION regress.error_doc(st text, msg text, det text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('error', st, 'message', msg, 'detail',
		CASE WHEN det LIKE '{%' THEN det::jsonb - 'trace_id' ELSE to_jsonb(det) END)
$$;

-- create_profile's result without the values that change on every run
-- (id, trace_id, timestamps), or its error
CREATE FUNCTION regress.try(payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; det text; r jsonb;
BEGIN
	r := profile.create_profile(payload);
	IF r->>'wizard_url' IS NOT NULL THEN
		r := jsonb_set(r, '{wizard_url}', to_jsonb(replace(r->>'wizard_url', r->>'id', '<id>')));
	END IF;
	RETURN r - '{id,trace_id,created_at,updated_at}'::text[];
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regress.error_doc(st, msg, det);
END
$$;

-- "ok", or the error of any statement (admin functions)
CREATE FUNCTION regress.err(sql text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; det text;
BEGIN
	EXECUTE sql;
	RETURN '"ok"';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regress.error_doc(st, msg, det);
END
$$;

CREATE FUNCTION regress.counts(OUT profiles bigint, OUT events bigint) LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM profile_data.profiles),
		   (SELECT count(*) FROM profile_data.audit_events)
$$;

-- the schemas and what PUBLIC may do with them
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'profile%' ORDER BY 1;
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer,
	   p.provolatile, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
	   obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('profile', 'profile_data') ORDER BY 1;
-- every SECURITY DEFINER function pins search_path
SELECT p.oid::regprocedure, p.proconfig FROM pg_proc p
 WHERE p.pronamespace = 'profile'::regnamespace AND p.prosecdef ORDER BY 1;
-- every table and view is commented
SELECT c.oid::regclass, c.relkind FROM pg_class c
 WHERE c.relnamespace IN ('profile'::regnamespace, 'profile_data'::regnamespace)
   AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL;
-- pg_dump keeps the data of every table
SELECT unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'profile_ext' ORDER BY 1;
