-- error format (contract §5): SQLSTATE, message, JSON detail with code and trace_id
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
-- rate limits are not the subject here (see ratelimit.sql)
SELECT profile.create_tenant('x', '{"required_contract": "create_customer_api", "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('x-off', '{"enabled": false}') IS NOT NULL;
SELECT profile.create_client('x-client') IS NOT NULL;
SELECT profile.issue_access_token('x-client', '{x}') AS tok \gset
SELECT profile.issue_access_token('x-client', '{x,x-off}') AS tok2 \gset
SELECT profile.grant_contract('x-client', 'create_customer_api');
SELECT profile.create_client('x-no-contract') IS NOT NULL;
SELECT profile.issue_access_token('x-no-contract', '{x}') AS tok3 \gset

CREATE FUNCTION regress.raw_error(payload jsonb, OUT state text, OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM profile.create_profile(payload);
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
END
$$;

-- one call per code: SQLSTATE, message, the detail's keys, and a trace_id that is a UUID
SELECT name, e.state, e.message, d->>'code' AS code,
	   (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(d) k) AS detail_keys,
	   (d->>'trace_id')::uuid IS NOT NULL AS trace_is_uuid
  FROM (VALUES
	('invalid request', '[1]'::jsonb),
	('validation failed', jsonb_build_object('accessTokenId', :'tok', 'email', 'no')),
	('unauthenticated', '{"accessTokenId": "pe_nope"}'),
	('tenant not found', jsonb_build_object('accessTokenId', :'tok2', 'tenantName', 'nope', 'email', 'a@example.com')),
	('tenant forbidden', jsonb_build_object('accessTokenId', :'tok2', 'tenantName', 'x-off', 'email', 'a@example.com')),
	('contract inactive', jsonb_build_object('accessTokenId', :'tok3', 'email', 'a@example.com'))
  ) AS v(name, payload),
  LATERAL regress.raw_error(payload) e, LATERAL (SELECT e.detail::jsonb AS d) j;
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'taken@example.com'))->>'email';
SELECT e.state, e.message, d - 'trace_id' AS detail
  FROM regress.raw_error(jsonb_build_object('accessTokenId', :'tok', 'email', 'TAKEN@example.com')) e,
	   LATERAL (SELECT e.detail::jsonb AS d) j;

-- each trace_id is new
SELECT count(DISTINCT (regress.raw_error('[1]')).detail::jsonb->>'trace_id') FROM generate_series(1, 5);

-- the result's trace_id is the audit event's
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'trace@example.com')) AS r \gset
SELECT e.trace_id::text = (:'r'::jsonb)->>'trace_id' AS same_trace, e.profile_id::text = (:'r'::jsonb)->>'id' AS same_profile
  FROM profile.audit_events e WHERE e.profile_id = ((:'r'::jsonb)->>'id')::uuid;

-- a password never appears in a result, a message or a detail
SELECT count(*) AS leaks
  FROM (VALUES (jsonb_build_object('accessTokenId', :'tok', 'email', 'bad', 'password', 'hunter2-secret')),
			   (jsonb_build_object('accessTokenId', :'tok', 'email', 'taken@example.com', 'password', 'hunter2-secret')),
			   (jsonb_build_object('accessTokenId', :'tok', 'email', 'p@example.com', 'password', 'hunter2-secret', 'x', 1)),
			   (jsonb_build_object('accessTokenId', :'tok', 'email', 'p@example.com', 'password', repeat('hunter2-secret', 10)))) AS v(p),
	   LATERAL regress.raw_error(p) e
 WHERE e.message LIKE '%hunter2%' OR e.detail LIKE '%hunter2%';
SELECT r::text LIKE '%hunter2%' OR r ? 'password' AS leaked
  FROM profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'pw@example.com', 'password', 'hunter2-secret')) r;
SELECT count(*) AS leaks FROM profile.audit_events WHERE data::text LIKE '%hunter2%' OR data ? 'password_hash';
-- nor does the access token
SELECT count(*) AS leaks FROM regress.raw_error(jsonb_build_object('accessTokenId', :'tok' || 'x', 'email', 'p@example.com')) e
 WHERE e.message LIKE '%' || :'tok' || '%' OR e.detail LIKE '%' || :'tok' || '%';

-- the message as psql shows it
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'no', 'username', 'x'));
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'no'));
