-- verification (Crafter Profile): tokens, the outbox, verify_profile
\set VERBOSITY terse
SELECT profile.create_tenant('ve', '{"verification": true, "verification_ttl": "1 hour", "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('ve-short', '{"verification": true, "verification_ttl": "1 second", "required_contract": null}') IS NOT NULL;
SELECT profile.create_client('ve-app') IS NOT NULL;
SELECT profile.grant_contract('ve-app', 'create_customer_api');
SELECT profile.issue_access_token('ve-app', '{ve}') AS tok \gset

CREATE FUNCTION regress.ver(token text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	RETURN profile.verify_profile(token) - '{id,trace_id,created_at,updated_at}'::text[];
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regress.error_doc(st, msg, det);
END
$$;

-- a verifying tenant needs a verificationUrl
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'v0@example.com'))->'detail';
SELECT regress.try(jsonb_build_object('accessTokenId', :'tok', 'email', 'v0@example.com', 'verificationUrl', ''))->'detail';
-- new profiles start unverified and disabled, whatever the request says; no token in the result
SELECT profile.create_profile(jsonb_build_object('accessTokenId', :'tok', 'email', 'v1@example.com', 'enabled', true,
	'verificationUrl', 'https://crafter.example/verify')) AS r \gset
SELECT (:'r'::jsonb)->'enabled' AS enabled, (:'r'::jsonb)->'verified' AS verified,
	   (:'r'::jsonb)->>'verificationUrl' AS url, :'r' LIKE '%pv\_%' AS token_in_result;
-- the outbox row holds the link without its token; the token is stored as a hash only
SELECT o.id AS outbox FROM profile_data.verification_outbox o WHERE o.email = 'v1@example.com' \gset
SELECT email, verification_url, sent_at IS NULL AS unsent FROM profile_data.verification_outbox WHERE id = :outbox;
SELECT length(token_hash), expires_at - t.created_at AS ttl, client, used_at IS NULL AS unused
  FROM profile_data.verification_tokens t JOIN profile_data.profiles p ON p.id = t.profile_id WHERE p.email = 'v1@example.com';

-- a mailer that missed the notification asks for a new link
SELECT profile.resend_verification(:outbox) AS mail \gset
SELECT (:'mail'::jsonb) - 'url' - 'profile_id' AS mail, (:'mail'::jsonb)->>'url' ~ '^https://crafter\.example/verify\?token=pv_[A-Za-z0-9_-]{43}$' AS link;
SELECT substring((:'mail'::jsonb)->>'url' FROM 'token=(.*)$') AS token \gset
SELECT count(*) FILTER (WHERE revoked_at IS NOT NULL) AS revoked, count(*) FILTER (WHERE revoked_at IS NULL) AS live
  FROM profile_data.verification_tokens t JOIN profile_data.profiles p ON p.id = t.profile_id WHERE p.email = 'v1@example.com';
-- the token is nowhere in the tables
SELECT count(*) AS token_in_tables FROM (
	SELECT t::text FROM profile_data.verification_tokens t UNION ALL SELECT o::text FROM profile_data.verification_outbox o
	UNION ALL SELECT e::text FROM profile_data.audit_events e UNION ALL SELECT p::text FROM profile_data.profiles p) x(row)
 WHERE row LIKE '%' || :'token' || '%';
SELECT profile.mark_verification_sent(:outbox);
SELECT sent_at IS NOT NULL AS sent FROM profile_data.verification_outbox WHERE id = :outbox;
SELECT regress.err($$SELECT profile.mark_verification_sent(-1)$$);

-- following the link: verified and enabled, audited as profile.verified
SELECT regress.ver(:'token');
SELECT event, client, data FROM profile_data.audit_events e JOIN profile_data.profiles p ON p.id = e.profile_id
 WHERE p.email = 'v1@example.com' AND e.chain_seq > 1;
-- a token works once
SELECT regress.ver(:'token');
-- unknown and malformed tokens
SELECT regress.ver('pv_' || repeat('A', 43));
SELECT regress.ver('not-a-token');
SELECT regress.ver('');
SELECT regress.ver(NULL);
-- expired tokens
SELECT profile.create_profile('{"tenantName": "ve-short", "email": "v2@example.com", "verificationUrl": "https://crafter.example/v"}')->>'enabled';
SELECT (profile.resend_verification(id)->>'url') AS url2 FROM profile_data.verification_outbox WHERE email = 'v2@example.com' \gset
SELECT pg_sleep(1.2);
SELECT regress.ver(substring(:'url2' FROM 'token=(.*)$'));
-- without tenant verification, profiles start unverified and as enabled as requested
SELECT regress.try('{"tenantName": "ve-short", "email": "v3@example.com"}')->'detail'->'errors'->0->>'field';
SELECT profile.alter_tenant('ve-short', '{"verification": false}')->'settings'->'verification';
SELECT r->'enabled', r->'verified' FROM regress.try('{"tenantName": "ve-short", "email": "v3@example.com", "enabled": false}') r;
