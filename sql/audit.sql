-- audit: every insert into profile_data.profiles records profile.created
\set ECHO none
\i test/fresh.sql
\set ECHO all
SELECT regress.standard_roles();
\set VERBOSITY terse
SELECT profile.create_tenant('au') IS NOT NULL;
SELECT profile.create_client('au-client') IS NOT NULL;
SELECT profile.grant_contract('au-client', 'create_customer_api');
SELECT profile.issue_access_token('au-client', '{au}') AS tok \gset

-- the admin view has the columns of contract §6
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'profile.audit_events'::regclass AND attnum > 0 ORDER BY attnum;

-- through the API: tenant, client, trace id, the row without the password hash
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'username', 'audited',
	'email', 'audited@example.com', 'password', 'a-secret-pw')) AS r \gset
SELECT tenant, client, source, event, occurred_at = recorded_at AS occurred_when_recorded,
	   trace_id::text = (:'r'::jsonb)->>'trace_id' AS trace_matches,
	   data->>'username' AS username, data->>'email' AS email, data ? 'password_hash' AS has_hash
  FROM profile.audit_events WHERE profile_id = ((:'r'::jsonb)->>'id')::uuid;

-- the event is written in the same transaction as the profile
BEGIN;
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'rolled-back@example.com'))->>'email';
SELECT count(*) FROM profile.audit_events WHERE data->>'email' = 'rolled-back@example.com';
ROLLBACK;
SELECT count(*) FROM profile.audit_events WHERE data->>'email' = 'rolled-back@example.com';

-- a direct write by an admin is recorded too, with the database role as client
CREATE ROLE regress_super SUPERUSER LOGIN;
SET ROLE regress_super;
INSERT INTO profile_data.profiles (tenant_id, id, email)
	SELECT id, '00000000-0000-7000-8000-000000000001', 'direct@example.com' FROM profile_data.tenants WHERE name = 'au';
RESET ROLE;
DROP ROLE regress_super;
SELECT tenant, client, source, event, trace_id IS NOT NULL AS has_trace, data->>'email' AS email
  FROM profile.audit_events WHERE profile_id = '00000000-0000-7000-8000-000000000001';

-- one event per row of a multi-row insert
INSERT INTO profile_data.profiles (tenant_id, id, email)
	SELECT t.id, ('00000000-0000-7000-8000-00000000001' || g)::uuid, 'multi' || g || '@example.com'
	  FROM profile_data.tenants t, generate_series(1, 3) g WHERE t.name = 'au';
SELECT count(*) FROM profile.audit_events WHERE data->>'email' LIKE 'multi%';

-- a direct write's state is checked by the row trigger (the table has no
-- CHECK constraint for it); the refused writes leave nothing, the valid
-- update its event
SELECT * FROM regress.counts() \gset before_
SELECT regress.err($$INSERT INTO profile_data.profiles (tenant_id, id, email, state)
	SELECT id, '00000000-0000-7000-8000-000000000021', 'state@example.com', 'done'
	  FROM profile_data.tenants WHERE name = 'au'$$)->'detail'->'errors';
SELECT regress.err($$UPDATE profile_data.profiles SET state = 'finished'
	WHERE id = '00000000-0000-7000-8000-000000000001'$$)->'detail'->'errors';
UPDATE profile_data.profiles SET state = 'incomplete' WHERE id = '00000000-0000-7000-8000-000000000011';
SELECT state FROM profile_data.profiles WHERE id IN ('00000000-0000-7000-8000-000000000001',
	'00000000-0000-7000-8000-000000000011') ORDER BY id;
SELECT profiles - :before_profiles AS profiles_written, events - :before_events AS events_written
  FROM regress.counts();

-- failed calls leave no event
SELECT * FROM regress.counts() \gset before_
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'audited@example.com'))->'detail'->>'code';
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'bad'))->'detail'->>'code';
SELECT events - :before_events AS new_events FROM regress.counts();

-- API roles cannot read the trail
SET ROLE regress_api;
SELECT count(*) FROM profile.audit_events;
RESET ROLE;
