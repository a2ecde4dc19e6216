-- register_user_profile (contract §4): the identity SDK's registration
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
-- rate limits are not the subject here (see ratelimit.sql)
SELECT profile.create_tenant('sdk', '{"rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('sdk-2') IS NOT NULL;
SELECT profile.create_client('sdk-app') IS NOT NULL;
SELECT profile.grant_contract('sdk-app', 'create_customer_api');
SELECT profile.issue_access_token('sdk-app', '{sdk}') AS tok \gset
SELECT profile.issue_access_token('sdk-app', '{sdk-2}') AS tok2 \gset
\set seed `cat test/sdk_seed.json`

CREATE FUNCTION regress.reg(id uuid, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	RETURN profile.register_user_profile(id, payload) - '{trace_id,created_at}'::text[];
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regress.error_doc(st, msg, det);
END
$$;

-- the seed's example body as written, plus the access token
SELECT regress.reg('c908bc7c-9917-48fd-b862-d901a0880fef', :'seed'::jsonb || jsonb_build_object('accessTokenId', :'tok'));
-- what was stored: the profile, the two SDK events, the registration
SELECT tenant_id IS NOT NULL AS has_tenant, country_code, enabled, username, email FROM profile_data.profiles
 WHERE id = 'c908bc7c-9917-48fd-b862-d901a0880fef';
SELECT chain_seq, source, event,
	   CASE WHEN source = 'sdk' THEN (occurred_at AT TIME ZONE 'UTC')::text ELSE 'at the call' END AS occurred_utc,
	   session_id, transaction_group_id,
	   client, data - 'audit' AS data, data->'audit'->'owner' AS audit_owner
  FROM profile_data.audit_events WHERE profile_id = 'c908bc7c-9917-48fd-b862-d901a0880fef' AND event <> 'profile.created'
 ORDER BY chain_seq;
-- every event of the call shares the call's trace id
SELECT count(DISTINCT trace_id) FROM profile_data.audit_events WHERE profile_id = 'c908bc7c-9917-48fd-b862-d901a0880fef';

-- the id is taken: in the same tenant, and in any other
SELECT regress.reg('c908bc7c-9917-48fd-b862-d901a0880fef', jsonb_build_object('accessTokenId', :'tok', 'countryCode', 'US'));
SELECT regress.reg('c908bc7c-9917-48fd-b862-d901a0880fef', jsonb_build_object('accessTokenId', :'tok2', 'countryCode', 'US'));
-- nothing else is required; lower-case country accepted
SELECT regress.reg('00000000-0000-4000-8000-000000000001', jsonb_build_object('accessTokenId', :'tok', 'countryCode', 'de'));

SELECT * FROM regress.counts() \gset before_
-- bad fields, all reported together
SELECT regress.reg('00000000-0000-4000-8000-000000000002', jsonb_build_object('accessTokenId', :'tok',
	'countryCode', 'XX', 'userProfileId', '00000000-0000-4000-8000-000000000003', 'arid', 'not-a-uuid',
	'sdkVersion', repeat('v', 65), 'tpAuditMetadata', '{"sessionId": "nope", "other": 1}'::jsonb, 'extra', true));
SELECT regress.reg('00000000-0000-4000-8000-000000000002', jsonb_build_object('accessTokenId', :'tok'));
SELECT regress.reg(NULL, jsonb_build_object('accessTokenId', :'tok', 'countryCode', 'US'));
SELECT regress.reg('00000000-0000-4000-8000-000000000002', jsonb_build_object('accessTokenId', :'tok',
	'countryCode', 'US', 'userProfileId', 42, 'sdkAuditEvents', '{}', 'tpAuditMetadata', '[]'));
-- bad SDK events: one broken event rejects the whole call
SELECT regress.reg('00000000-0000-4000-8000-000000000002', jsonb_build_object('accessTokenId', :'tok',
	'countryCode', 'US', 'sdkAuditEvents', jsonb_build_array(
		'{"dateTime": "2020-01-28T13:16:01.714-05:00", "type": "audit"}'::jsonb,
		'{"type": "no date"}'::jsonb,
		'{"dateTime": "2020-01-28T13:16:01"}'::jsonb,
		'{"dateTime": "2020-02-30T00:00:00Z"}'::jsonb,
		'{"dateTime": "2020-01-28T13:16:01Z", "sessionId": "x", "transactionGroupId": 5, "userProfileId": "y"}'::jsonb,
		jsonb_build_object('dateTime', '2020-01-28T13:16:01Z', 'logEvent', repeat('e', 257), 'deviceMake', 7),
		'{"dateTime": "2020-01-28T13:16:01Z", "audit": [1], "colour": "red"}'::jsonb,
		'"not an object"'::jsonb)))->'detail'->'errors';
-- audit: any object, nested at most 16 levels
SELECT regress.reg('00000000-0000-4000-8000-000000000002', jsonb_build_object('accessTokenId', :'tok',
	'countryCode', 'US', 'sdkAuditEvents', jsonb_build_array(jsonb_build_object('dateTime', '2020-01-28T13:16:01Z',
	'audit', (SELECT string_agg('{"a":', '') || '1' || repeat('}', 17) FROM generate_series(1, 17))::jsonb))))->'detail'->'errors';
-- at most 1000 events
SELECT regress.reg('00000000-0000-4000-8000-000000000002', jsonb_build_object('accessTokenId', :'tok',
	'countryCode', 'US', 'sdkAuditEvents', (SELECT jsonb_agg('{"dateTime": "2020-01-28T13:16:01Z"}'::jsonb) FROM generate_series(1, 1001))))->'detail';
SELECT profiles - :before_profiles AS profiles_written, events - :before_events AS events_written FROM regress.counts();
-- dateTime is an RFC 3339 date-time: seconds and the offset's minutes
-- required, T and Z in either case, second 60 only at 23:59:60 UTC
SELECT e->>'field' AS field, e->>'rule' AS rule
  FROM jsonb_array_elements(regress.reg('00000000-0000-4000-8000-000000000003', jsonb_build_object('accessTokenId', :'tok',
	'countryCode', 'US', 'sdkAuditEvents', (SELECT jsonb_agg(jsonb_build_object('dateTime', d) ORDER BY n)
	  FROM unnest(ARRAY['2020-01-28T13:16Z', '2020-01-28T13:16:01+05', '2020-01-28T13:16:01+0500',
		'2020-01-28 13:16:01Z', '2020-01-28T13:16:01,5Z', '2016-12-31T12:00:60Z',
		'2016-12-31T23:59:60+01:00', '2020-01-28T13:16:01+24:00', '20200128T131601Z']) WITH ORDINALITY AS u(d, n))))->'detail'->'errors') e;
SELECT profiles - :before_profiles AS profiles_written, events - :before_events AS events_written FROM regress.counts();
SELECT regress.reg('00000000-0000-4000-8000-000000000003', jsonb_build_object('accessTokenId', :'tok',
	'countryCode', 'US', 'sdkAuditEvents', (SELECT jsonb_agg(jsonb_build_object('dateTime', d, 'logEvent', d) ORDER BY n)
	  FROM unnest(ARRAY['2020-01-28t13:16:01.714z', '2016-12-31T23:59:60Z', '2016-12-31T15:59:60.5-08:00',
		'2020-01-28T13:16:01.123456789-00:00']) WITH ORDINALITY AS u(d, n))))->'audit_events';
SELECT data->>'logEvent' AS given, occurred_at AT TIME ZONE 'UTC' AS occurred_at_utc
  FROM profile_data.audit_events WHERE profile_id = '00000000-0000-4000-8000-000000000003' AND source = 'sdk'
 ORDER BY chain_seq;
-- exactly 1000 are accepted, in one call
SELECT regress.reg('00000000-0000-4000-8000-000000000004', jsonb_build_object('accessTokenId', :'tok',
	'countryCode', 'US', 'sdkAuditEvents', (SELECT jsonb_agg(jsonb_build_object('dateTime', '2020-01-28T13:16:01Z', 'logEvent', 'e' || g)) FROM generate_series(1, 1000) g)))->'audit_events';
SELECT count(*), min(chain_seq), max(chain_seq) FROM profile_data.audit_events WHERE profile_id = '00000000-0000-4000-8000-000000000004';

-- the principal, tenant and contract come first, as for create_profile
SELECT regress.reg('00000000-0000-4000-8000-000000000005', '{"accessTokenId": "pe_nope", "countryCode": "XX"}');
SELECT regress.reg('00000000-0000-4000-8000-000000000005', jsonb_build_object('accessTokenId', :'tok', 'tenantName', 'sdk-2', 'countryCode', 'US'));
SELECT profile.end_contract('sdk-app', 'create_customer_api');
SELECT regress.reg('00000000-0000-4000-8000-000000000005', jsonb_build_object('accessTokenId', :'tok', 'countryCode', 'US'));
SELECT profile.grant_contract('sdk-app', 'create_customer_api');
SELECT regress.reg('00000000-0000-4000-8000-000000000005', '[1]');
SELECT regress.reg('00000000-0000-4000-8000-000000000005', NULL);
SELECT profile.verify_audit_chain('sdk');
