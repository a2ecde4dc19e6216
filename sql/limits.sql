-- limits on work: what is cheap to refuse is refused first, nothing is
-- super-linear in its input, and deep JSON gets the contract's error
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('lim', '{"required_contract": null, "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT * FROM regress.counts() \gset before_

-- roles: at most 100 as given, duplicates included; the 1.0 attack (a
-- 962 KB comma-separated string) is refused at the 101st entry
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'r1@example.com',
	'roles', (SELECT jsonb_agg('r' || i) FROM generate_series(1, 100) i)))->'roles'->>99 AS role_100;
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'r2@example.com',
	'roles', (SELECT jsonb_agg('r' || i) FROM generate_series(1, 101) i)))->'detail';
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'r3@example.com',
	'role', repeat('a,', 481000)))->'detail';
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'r4@example.com',
	'role', repeat('a,', 99) || 'b'))->'roles' AS deduplicated;
-- integer and string arrays: at most 1000 items
SELECT jsonb_array_length(regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'a1@example.com',
	'role_ids', (SELECT jsonb_agg(i) FROM generate_series(1, 1000) i)))->'role_ids') AS items;
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'a2@example.com',
	'role_ids', (SELECT jsonb_agg(i) FROM generate_series(1, 1001) i),
	'mail_chimp_lists', (SELECT jsonb_agg(i) FROM generate_series(1, 2000) i),
	'stored_selectors', (SELECT jsonb_agg('#s'::text) FROM generate_series(1, 1001) i)))->'detail';
-- attributes as a string nested 100000 levels: the contract's error, not
-- "stack depth limit exceeded"
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'd1@example.com',
	'attributes', '{"a":' || repeat('[', 100000) || repeat(']', 100000) || '}'))->'detail';
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'd2@example.com',
	'attributes', '{"a":' || repeat('[', 15) || repeat(']', 15) || '}'))->'attributes' IS NOT NULL AS depth_16_ok;
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'd3@example.com',
	'attributes', '{"a":' || repeat('[', 16) || repeat(']', 16) || '}'))->'detail';
-- tenant settings: role lists of at most 1000 entries, duplicates dropped
SELECT regress.err($$SELECT profile.alter_tenant('lim', jsonb_build_object('allowed_roles',
	(SELECT jsonb_agg('r' || i) FROM generate_series(1, 1001) i)))$$)->'detail';
SELECT profile.alter_tenant('lim', '{"allowed_roles": ["a", "b", "a", "c", "b"]}')->'settings'->'allowed_roles';
SELECT profile.alter_tenant('lim', '{"allowed_roles": null}')->'settings'->'allowed_roles';
SELECT * FROM regress.counts() \gset after_
SELECT :after_profiles - :before_profiles AS created, :after_events - :before_events AS audited;

-- a read-only transaction is refused before anything is done or counted:
-- no password is hashed, no rate-limit token is taken
SELECT profile.create_tenant('lim-1', '{"required_contract": null, "rate_limit": {"per_second": 1, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_client('lim-app') IS NOT NULL;
SELECT profile.issue_access_token('lim-app', '{lim-1}') AS tok \gset
BEGIN READ ONLY;
SET LOCAL profile_ext.password_memlimit = '1GB';
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'ro@example.com', 'password', 'long enough'));
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'ro@example.com', 'password', 'long enough'));
SELECT regress.err(format('SELECT profile.update_profile(%L, %L)', gen_random_uuid(), jsonb_build_object('accessTokenId', :'tok')));
SELECT regress.err(format('SELECT profile.register_user_profile(%L, %L)', gen_random_uuid(), jsonb_build_object('accessTokenId', :'tok')));
SELECT regress.err($$SELECT profile.verify_profile('pv_x')$$);
COMMIT;
-- the one call a second allowed is still there
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'rw@example.com'))->>'email';

-- JSON whose text is far longer than its jsonb (a number like 1e131000 is a
-- dozen bytes stored, 131 kB written out): sizes are measured on the text,
-- without writing more than the limit
SET statement_timeout = '5s';
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'n1@example.com',
	'attributes', ('{"a": [' || repeat('1e131000,', 4) || '1]}')::jsonb))->'detail';
SELECT regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'n1@example.com',
	'attributes', ('{"a": [' || repeat('1e131000,', 9000) || '1]}')::jsonb))->'detail';
SELECT regress.err(format('SELECT profile.register_user_profile(%L, %L)', gen_random_uuid(),
	jsonb_build_object('tenantName', 'lim', 'countryCode', 'FI', 'sdkAuditEvents',
		(SELECT jsonb_agg(('{"dateTime": "2026-01-01T00:00:00Z", "audit": {"a": [1e131000, 1e131000]}}')::jsonb)
		   FROM generate_series(1, 100)))))->'detail';
RESET statement_timeout;
-- attributes of exactly 64 KiB written out pass, one byte more does not
SELECT n, regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'size' || n || '@example.com',
	'attributes', jsonb_build_object('x', repeat('y', n))))->'detail'->'errors'->0->>'rule' AS rule
  FROM unnest(ARRAY[65527, 65528]) n;
SELECT length(jsonb_build_object('x', repeat('y', 65527))::text) AS text_length;
-- the same where the text escapes characters (a newline takes 2 bytes,
-- U+0001 takes 6, a quote 2): 65536 bytes pass, 65537 do not
SELECT m, length(jsonb_build_object('x', repeat(E'\n', 32756) || repeat(chr(1), 2) || '"' || repeat('y', m))::text) AS text_length,
	   regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'esc' || m || '@example.com',
		'attributes', jsonb_build_object('x', repeat(E'\n', 32756) || repeat(chr(1), 2) || '"' || repeat('y', m))))->'detail'->'errors'->0->>'rule' AS rule
  FROM unnest(ARRAY[1, 2]) m;
-- and where long runs that need no escaping surround them
SELECT m, length(jsonb_build_object('x', repeat('y', 13) || '"' || repeat('y', m) || E'\t')::text) AS text_length,
	   regress.try(jsonb_build_object('tenantName', 'lim', 'email', 'run' || m || '@example.com',
		'attributes', jsonb_build_object('x', repeat('y', 13) || '"' || repeat('y', m) || E'\t')))->'detail'->'errors'->0->>'rule' AS rule
  FROM unnest(ARRAY[65510, 65511]) m;

-- the first call of a session fills the caches through SPI; its result
-- must not live in memory that SPI frees (1.0 and early 1.1 crashed here)
\c -
SELECT jsonb_array_length(r->'stored_selectors') AS selectors, r->'stored_selectors'->>499 = repeat('s', 1000) AS intact
  FROM profile.create_profile(jsonb_build_object('tenantName', 'lim', 'email', 'first@example.com',
	'stored_selectors', (SELECT jsonb_agg(repeat('s', 1000)) FROM generate_series(1, 500)))) r;
\c -
SELECT r->>'audit_events' AS events
  FROM profile.register_user_profile(gen_random_uuid(), jsonb_build_object('tenantName', 'lim', 'countryCode', 'FI',
	'sdkAuditEvents', (SELECT jsonb_agg(jsonb_build_object('dateTime', '2026-01-01T00:00:00Z',
		'audit', jsonb_build_object('a', (SELECT jsonb_agg(1) FROM generate_series(1, 57)))))
	  FROM generate_series(1, 100)))) r;
