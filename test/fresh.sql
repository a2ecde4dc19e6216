-- test/fresh.sql -- the start of every pg_regress file (sql/*.sql):
--
--   \set ECHO none
--   \i test/fresh.sql
--   \set ECHO all
--
-- A fresh extension, no regress_* roles, and the helpers, so that each file
-- runs alone (make installcheck REGRESS=fields) and in any order.  It prints
-- nothing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS profile_ext CASCADE;
DROP SCHEMA IF EXISTS regress CASCADE;

-- roles an earlier file (or an interrupted run) left behind
DO $$
DECLARE
	r name;
BEGIN
	FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'regress\_%' ORDER BY oid DESC LOOP
		EXECUTE format('DROP OWNED BY %I CASCADE', r);
		EXECUTE format('DROP ROLE %I', r);
	END LOOP;
END
$$;

CREATE EXTENSION profile_ext;
-- on a Citus coordinator (test/t/007_citus.pl: psql -v citus=1), the
-- tables distributed as a user would distribute them
\if :{?citus}
SELECT profile.distribute() IS NOT NULL AS distributed \gset
\endif

-- fast password hashing for tests (the default is Argon2id with 64 MiB),
-- in this session and in every later one
SET profile_ext.password_memlimit = '64kB';
SET profile_ext.password_opslimit = 1;
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

-- the profile.created events an API call records itself, against the
-- document the trigger makes of the stored row (every non-null column but
-- the password hash, the keys, the mark, and the tenant and id, the
-- event's own): how many there are, how many are equal
CREATE FUNCTION regress.created_documents(OUT created bigint, OUT same_document bigint) LANGUAGE sql AS $$
	SELECT count(*),
		   count(*) FILTER (WHERE e.data - 'attributes' = jsonb_strip_nulls(to_jsonb(p)
				- '{tenant_id,id,password_hash,username_key,username_skeleton,username_shape,email_key,phone_key,api_mark,attributes}'::text[])
			   AND e.data->'attributes' = p.attributes)
	  FROM profile_data.profiles p
	  JOIN profile_data.audit_events e ON e.tenant_id = p.tenant_id AND e.profile_id = p.id AND e.chain_seq = 1
	 WHERE e.event = 'profile.created'
$$;

-- a call as PostgREST makes it (request.method set): its status, or the
-- PGRST error it raises, the trace ids removed
CREATE FUNCTION regress.http(fn text, arg jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; r jsonb;
BEGIN
	PERFORM set_config('request.method', 'POST', true);
	IF fn = 'create' THEN
		r := profile.create_profile(arg);
	ELSE
		r := profile.register_user_profile((arg->>'user_profile_id')::uuid, arg->'payload');
	END IF;
	RETURN jsonb_build_object('status', current_setting('response.status', true), 'state', r->>'state');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	IF st <> 'PGRST' THEN
		RETURN jsonb_build_object('sqlstate', st, 'message', msg);
	END IF;
	RETURN jsonb_build_object('sqlstate', st,
		'message', (msg::jsonb - 'details') || jsonb_build_object('details', (msg::jsonb->>'details')::jsonb - 'trace_id'),
		'detail', det::jsonb);
END
$$;

-- the standard roles: an admin, an API role and a role with neither, for
-- the files that act as them (SELECT regress.standard_roles())
CREATE FUNCTION regress.standard_roles() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	CREATE ROLE regress_admin LOGIN;
	CREATE ROLE regress_api LOGIN;
	CREATE ROLE regress_nobody LOGIN;
	PERFORM profile.grant_admin('regress_admin');
	PERFORM profile.grant_api('regress_api');
END
$$;

RESET client_min_messages;
