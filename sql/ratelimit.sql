-- rate limits per client and tenant (contract §1; Ocamba's "Burst: 10/s,
-- Steady: 150/m" are the defaults), shared by all backends
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('rl') IS NOT NULL;
SELECT profile.create_tenant('rl-2') IS NOT NULL;
SELECT profile.create_tenant('rl-small', '{"rate_limit": {"per_second": 3, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('rl-steady', '{"rate_limit": {"per_second": 0, "per_minute": 5}}') IS NOT NULL;
SELECT profile.create_tenant('rl-off', '{"rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_client(c) IS NOT NULL FROM unnest('{rl-a,rl-b}'::text[]) c;
SELECT profile.grant_contract(c, 'create_customer_api') FROM unnest('{rl-a,rl-b}'::text[]) c;
SELECT profile.issue_access_token('rl-a') AS a \gset
SELECT profile.issue_access_token('rl-b') AS b \gset

-- the outcome of a call: "created", or the error code with retry_after
CREATE FUNCTION regress.outcome(payload jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE det text;
BEGIN
	PERFORM profile.create_profile(payload);
	RETURN 'created';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
	RETURN (det::jsonb)->>'code' || coalesce(' retry_after=' || ((det::jsonb)->>'retry_after'), '');
END
$$;

-- ten calls at once pass; the eleventh within the second is refused
SELECT g, regress.outcome(jsonb_build_object('accessTokenId', :'a', 'tenantName', 'rl', 'email', 'burst' || g || '@example.com'))
  FROM generate_series(1, 11) g;
-- the same client in another tenant, and another client in this one, have budgets of their own
SELECT regress.outcome(jsonb_build_object('accessTokenId', :'a', 'tenantName', 'rl-2', 'email', 'other-tenant@example.com'));
SELECT regress.outcome(jsonb_build_object('accessTokenId', :'b', 'tenantName', 'rl', 'email', 'other-client@example.com'));
-- the limit recovers after the window
SELECT pg_sleep(1.1);
SELECT regress.outcome(jsonb_build_object('accessTokenId', :'a', 'tenantName', 'rl', 'email', 'after@example.com'));

-- failed calls count too, and write nothing
SELECT g, regress.outcome(jsonb_build_object('accessTokenId', :'a', 'tenantName', 'rl-small', 'email', 'not an email'))
  FROM generate_series(1, 3) g;
SELECT regress.outcome(jsonb_build_object('accessTokenId', :'a', 'tenantName', 'rl-small', 'email', 'valid@example.com'));
SELECT count(*) FROM profile.profiles WHERE tenant = 'rl-small';

-- the steady limit: 5 a minute, one token every 12 seconds
SELECT g, regress.outcome(jsonb_build_object('accessTokenId', :'a', 'tenantName', 'rl-steady', 'email', 'steady' || g || '@example.com'))
  FROM generate_series(1, 6) g;

-- 0 turns a limit off; the admin principal is never limited
SELECT regress.outcome(jsonb_build_object('accessTokenId', :'a', 'tenantName', 'rl-off', 'email', 'off' || g || '@example.com')), count(*)
  FROM generate_series(1, 25) g GROUP BY 1;
SELECT regress.outcome(jsonb_build_object('tenantName', 'rl-small', 'email', 'admin' || g || '@example.com')), count(*)
  FROM generate_series(1, 10) g GROUP BY 1;

-- the error, for SQL callers and for PostgREST (429 with Retry-After)
SELECT regress.try(jsonb_build_object('accessTokenId', :'a', 'tenantName', 'rl-steady', 'email', 'late@example.com'));
BEGIN;
SELECT set_config('request.method', 'POST', true) IS NOT NULL;
SELECT regress.http('create', jsonb_build_object('accessTokenId', :'a', 'tenantName', 'rl-steady', 'email', 'late@example.com'));
ROLLBACK;
