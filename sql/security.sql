-- security: nothing a caller defines runs with the data owner's rights
-- (README, "Security model").  An API role and an admin role that own a
-- schema first on their search_path plant look-alike operators and
-- functions that note when they run as anyone else; every function of the
-- extension still works, and none of theirs ever runs.
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('sec', '{"rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('sec-v', '{"verification": true, "required_contract": null, "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_client('sec-app') IS NOT NULL;
SELECT profile.grant_contract('sec-app', 'create_customer_api');
SELECT profile.issue_access_token('sec-app', '{sec,sec-v}') AS tok \gset

CREATE ROLE regress_evil LOGIN;
CREATE ROLE regress_evil_admin LOGIN;
SELECT profile.grant_api('regress_evil');
SELECT profile.grant_admin('regress_evil_admin');
SELECT current_database() AS db \gset
GRANT CREATE ON DATABASE :"db" TO regress_evil, regress_evil_admin;

-- the planted objects, one schema per role
CREATE FUNCTION regress.plant(schema text) RETURNS void LANGUAGE plpgsql AS $plant$
DECLARE
	t text;
	op text;
	ops text[] := '{=,<>,<,>,<=,>=}';
	cat text;
BEGIN
	EXECUTE format('CREATE SCHEMA %I', schema);
	EXECUTE format('CREATE TABLE %I.log (what text, who name)', schema);
	EXECUTE format('GRANT USAGE ON SCHEMA %I TO PUBLIC', schema);
	EXECUTE format('GRANT INSERT ON %I.log TO PUBLIC', schema);
	EXECUTE format($f$CREATE FUNCTION %1$I.note(what text) RETURNS void LANGUAGE plpgsql AS $$
		BEGIN
			IF current_user OPERATOR(pg_catalog.<>) %2$L THEN
				INSERT INTO %1$I.log VALUES (what, current_user);
			END IF;
		END $$$f$, schema, current_user);
	FOREACH t IN ARRAY '{uuid,text,bigint,integer,boolean,timestamptz,jsonb,bytea}'::text[] LOOP
		FOREACH op IN ARRAY ops LOOP
			EXECUTE format($f$CREATE FUNCTION %1$I.%2$I(a %3$s, b %3$s) RETURNS boolean LANGUAGE plpgsql AS $$
				BEGIN PERFORM %1$I.note(%4$L); RETURN a OPERATOR(pg_catalog.%5$s) b; END $$$f$,
				schema, 'op_' || md5(op || t), t, op || ' ' || t, op);
			EXECUTE format('CREATE OPERATOR %1$I.%2$s (LEFTARG = %3$s, RIGHTARG = %3$s, FUNCTION = %1$I.%4$I)',
				schema, op, t, 'op_' || md5(op || t));
		END LOOP;
		cat := CASE t WHEN 'jsonb' THEN 'a OPERATOR(pg_catalog.||) b' WHEN 'bytea' THEN 'a OPERATOR(pg_catalog.||) b'
			ELSE 'a::pg_catalog.text OPERATOR(pg_catalog.||) b::pg_catalog.text' END;
		EXECUTE format($f$CREATE FUNCTION %1$I.%2$I(a %3$s, b %3$s) RETURNS %4$s LANGUAGE plpgsql AS $$
			BEGIN PERFORM %1$I.note(%5$L); RETURN %6$s; END $$$f$,
			schema, 'cat_' || t, t, CASE WHEN t IN ('jsonb', 'bytea') THEN t ELSE 'text' END, '|| ' || t, cat);
		EXECUTE format('CREATE OPERATOR %1$I.|| (LEFTARG = %2$s, RIGHTARG = %2$s, FUNCTION = %1$I.%3$I)',
			schema, t, 'cat_' || t);
	END LOOP;
	EXECUTE format($f$
		CREATE FUNCTION %1$I.lower(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('lower'); RETURN pg_catalog.lower(t); END $$;
		CREATE FUNCTION %1$I.upper(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('upper'); RETURN pg_catalog.upper(t); END $$;
		CREATE FUNCTION %1$I.length(t text) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('length'); RETURN pg_catalog.length(t); END $$;
		CREATE FUNCTION %1$I.now() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('now'); RETURN pg_catalog.now(); END $$;
		CREATE FUNCTION %1$I.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('clock_timestamp'); RETURN pg_catalog.clock_timestamp(); END $$;
		CREATE FUNCTION %1$I.sha256(b bytea) RETURNS bytea LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('sha256'); RETURN pg_catalog.sha256(b); END $$;
		CREATE FUNCTION %1$I.gen_random_uuid() RETURNS uuid LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('gen_random_uuid'); RETURN pg_catalog.gen_random_uuid(); END $$;
		CREATE FUNCTION %1$I.array_to_string(a anyarray, d text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('array_to_string'); RETURN pg_catalog.array_to_string(a, d); END $$;
		CREATE FUNCTION %1$I.normalize(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('normalize'); RETURN t; END $$;
		CREATE FUNCTION %1$I.username_skeleton(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM %1$I.note('username_skeleton'); RETURN t; END $$;
	$f$, schema);
END
$plant$;

SET ROLE regress_evil;
SELECT regress.plant('evil');
RESET ROLE;
SET ROLE regress_evil_admin;
SELECT regress.plant('evil_admin');
RESET ROLE;
-- the planted operators and functions do win for the role's own queries
BEGIN;
SET LOCAL ROLE regress_evil;
SET LOCAL search_path = evil, pg_catalog;
SELECT o.oprnamespace::regnamespace AS "=", p.pronamespace::regnamespace AS "lower"
  FROM pg_operator o, pg_proc p
 WHERE o.oid = '=(uuid,uuid)'::regoperator AND p.oid = 'lower(text)'::regprocedure;
ROLLBACK;

-- a profile to update and a verification token to follow, made beforehand
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'sec',
	'username', 'target_1', 'email', 'target@example.com'))->>'id' AS target \gset
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'sec-v',
	'email', 'tobeverified@example.com', 'verificationUrl', 'https://app.example/v'))->>'id' AS unverified \gset
SELECT id AS outbox FROM profile_data.verification_outbox WHERE profile_id = :'unverified' \gset
SELECT substring(profile.resend_verification(:outbox)->>'url' FROM 'token=(.*)$') AS vtoken \gset

-- every API function, as the API role with its planted schema first
SET ROLE regress_evil;
SET search_path = evil, pg_catalog;
SELECT r->>'state', r->>'username', r->>'email'
  FROM profile.create_profile(pg_catalog.jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'sec',
	'username', 'evil_1', 'email', 'evil1@example.com', 'password', 'secret-password',
	'mobile_phone_number', '+358 40 765 4321')) r;
SELECT r->>'username', r->>'full_name'
  FROM profile.update_profile(:'target', pg_catalog.jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'sec',
	'username', 'target_2', 'full_name', 'Target Two', 'password', 'another-password')) r;
SELECT r->>'tenant', r->>'audit_events'
  FROM profile.register_user_profile('5d0ac1c7-2b8e-4b6e-9c5e-0f3a3c1c2a11', pg_catalog.jsonb_build_object(
	'accessTokenId', :'tok', 'tenantName', 'sec', 'countryCode', 'fi',
	'sdkAuditEvents', '[{"dateTime": "2026-11-30T10:00:00Z", "logEvent": "x"}]'::jsonb)) r;
SELECT r->>'verified' FROM profile.verify_profile(:'vtoken') r;
-- reading, finding, deleting and erasing (1.1)
SELECT r->>'username' FROM profile.get_profile(:'target', pg_catalog.jsonb_build_object('accessTokenId', :'tok')) r;
SELECT r->>'username' FROM profile.find_profile(pg_catalog.jsonb_build_object('accessTokenId', :'tok',
	'tenantName', 'sec', 'username', 'EVIL_1')) r;
SELECT r->>'deleted' FROM profile.delete_profile((profile.create_profile(pg_catalog.jsonb_build_object('accessTokenId', :'tok',
	'tenantName', 'sec', 'email', 'evil-del@example.com'))->>'id')::uuid, pg_catalog.jsonb_build_object('accessTokenId', :'tok')) r;
SELECT r->>'erased', r->>'events_erased' FROM profile.erase_profile((profile.create_profile(pg_catalog.jsonb_build_object('accessTokenId', :'tok',
	'tenantName', 'sec', 'email', 'evil-erase@example.com', 'attributes', '{"a": 1}'::jsonb))->>'id')::uuid,
	pg_catalog.jsonb_build_object('accessTokenId', :'tok')) r;
-- a taken username: the uniqueness probe runs too
SELECT regress.try(pg_catalog.jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'sec',
	'username', 'EVIL_1', 'email', 'evil2@example.com'))->'detail'->>'code';
SELECT regress.err(pg_catalog.format('SELECT profile.update_profile(%L, %L)', :'target',
	pg_catalog.jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'sec', 'email', 'EVIL1@example.com')));
RESET search_path;
RESET ROLE;

-- every admin function, as an admin role with its planted schema first
SET ROLE regress_evil_admin;
SET search_path = evil_admin, pg_catalog;
SELECT profile.create_tenant('sec-2')->>'name';
SELECT profile.alter_tenant('sec-2', '{"enabled": false}')->>'enabled';
-- a switch of username_uniqueness rekeys the tenant's usernames
SELECT profile.alter_tenant('sec', '{"username_uniqueness": "confusable"}')->'settings'->>'username_uniqueness';
SELECT profile.alter_tenant('sec', '{"username_uniqueness": "casefold"}')->'settings'->>'username_uniqueness';
SELECT profile.create_client('sec-app-2')->>'name';
SELECT profile.issue_access_token('sec-app-2', '{sec-2}') AS tok2 \gset
SELECT profile.revoke_access_token(:'tok2');
SELECT profile.grant_contract('sec-app-2', 'create_customer_api');
SELECT profile.end_contract('sec-app-2', 'create_customer_api');
SELECT profile.seal_audit_chain('sec')->>'sealed';
SELECT profile.verify_audit_chain('sec')->>'ok';
SELECT profile.resend_verification(:outbox) IS NOT NULL;
SELECT profile.mark_verification_sent(:outbox);
SELECT count(*) > 0 FROM profile.audit_events WHERE tenant = 'sec';
SELECT r->>'username' FROM profile.get_profile(:'target') r;
SELECT r->>'erased' FROM profile.erase_profile((profile.create_profile('{"tenantName": "sec", "email": "evil-erase2@example.com"}')->>'id')::uuid) r;
SELECT profile.verify_audit_chain('sec')->>'ok';
RESET search_path;
RESET ROLE;

-- objects in pg_temp are never resolved either
SET ROLE regress_evil;
CREATE FUNCTION pg_temp.lower(t text) RETURNS text LANGUAGE sql AS $$ SELECT 'pwned' $$;
CREATE FUNCTION pg_temp.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT 'epoch'::timestamptz $$;
CREATE TEMP TABLE profiles (id uuid);
CREATE TEMP TABLE audit_events (id bigint);
SET search_path = pg_temp, evil, pg_catalog;
SELECT r->>'username', r->>'email'
  FROM profile.create_profile(pg_catalog.jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'sec',
	'username', 'evil_3', 'email', 'evil3@example.com')) r;
SELECT r->>'username' FROM profile.update_profile(:'target', pg_catalog.jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'sec',
	'username', 'target_3')) r;
RESET search_path;
DISCARD TEMP;
RESET ROLE;

-- nothing of theirs ran as anyone else, and every change was audited
SELECT * FROM evil.log;
SELECT * FROM evil_admin.log;
SELECT rolsuper FROM pg_roles WHERE rolname IN ('regress_evil', 'regress_evil_admin');
-- the seal records the role that called, not the function's definer
SELECT sealed_by FROM profile_data.audit_seals ORDER BY seal_seq DESC LIMIT 1;
SELECT event, client FROM profile.audit_events WHERE profile_id = :'target' ORDER BY id;
SELECT username, email FROM profile_data.profiles WHERE username IN ('evil_1', 'evil_3', 'target_3') ORDER BY 1;

DROP SCHEMA evil CASCADE;
DROP SCHEMA evil_admin CASCADE;
DROP FUNCTION regress.plant(text);
REVOKE CREATE ON DATABASE :"db" FROM regress_evil, regress_evil_admin;
DROP OWNED BY regress_evil, regress_evil_admin;
DROP ROLE regress_evil, regress_evil_admin;
