-- verification (Crafter Profile): tokens, the outbox, verify_profile
\set ECHO none
\i test/fresh.sql
\set ECHO all
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
-- the outbox row holds the link with its token (admin roles only); the
-- token table holds its hash only
SELECT o.id AS outbox FROM profile_data.verification_outbox o WHERE o.email = 'v1@example.com' \gset
SELECT email, verification_url, link ~ '^https://crafter\.example/verify\?token=pv_[A-Za-z0-9_-]{43}$' AS link,
	   sent_at IS NULL AS unsent FROM profile_data.verification_outbox WHERE id = :outbox;
SELECT length(token_hash), expires_at - t.created_at AS ttl, client, used_at IS NULL AS unused
  FROM profile_data.verification_tokens t JOIN profile_data.profiles p ON p.id = t.profile_id WHERE p.email = 'v1@example.com';

-- a mailer that missed the notification asks for a new link
SELECT profile.resend_verification(:outbox) AS mail \gset
SELECT (:'mail'::jsonb) - 'url' - 'profile_id' AS mail, (:'mail'::jsonb)->>'url' ~ '^https://crafter\.example/verify\?token=pv_[A-Za-z0-9_-]{43}$' AS link;
SELECT substring((:'mail'::jsonb)->>'url' FROM 'token=(.*)$') AS token \gset
SELECT count(*) FILTER (WHERE revoked_at IS NOT NULL) AS revoked, count(*) FILTER (WHERE revoked_at IS NULL) AS live
  FROM profile_data.verification_tokens t JOIN profile_data.profiles p ON p.id = t.profile_id WHERE p.email = 'v1@example.com';
-- the token is in no table but the outbox, until the mail is marked sent
CREATE FUNCTION regress.token_rows(token text) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(t, ', ' ORDER BY t) FROM (
		SELECT 'verification_tokens' FROM profile_data.verification_tokens x WHERE x::text LIKE '%' || token || '%'
		UNION ALL SELECT 'verification_outbox' FROM profile_data.verification_outbox x WHERE x::text LIKE '%' || token || '%'
		UNION ALL SELECT 'audit_events' FROM profile_data.audit_events x WHERE x::text LIKE '%' || token || '%'
		UNION ALL SELECT 'profiles' FROM profile_data.profiles x WHERE x::text LIKE '%' || token || '%') s(t)
$$;
SELECT regress.token_rows(:'token') AS token_in;
SELECT profile.mark_verification_sent(:outbox);
SELECT sent_at IS NOT NULL AS sent, link IS NULL AS link_erased FROM profile_data.verification_outbox WHERE id = :outbox;
SELECT regress.token_rows(:'token') AS token_in;
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

-- the mailer's way: claim pending mails, send, confirm; a mail not
-- confirmed before the claiming transaction ends is handed out again
SELECT profile.create_tenant('ve-mail', '{"verification": true, "required_contract": null,
	"verification_url": "https://mail.example/verify#welcome", "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_profile('{"tenantName": "ve-mail", "email": "m1@example.com"}')->>'verified';
SELECT profile.create_profile('{"tenantName": "ve-mail", "email": "m2@example.com", "verificationUrl": "https://other.example/v?lang=fi"}')->>'verified';
BEGIN;
SELECT m->>'tenant' AS tenant, m->>'email' AS email,
	   regexp_replace(m->>'url', 'pv_[A-Za-z0-9_-]{43}', 'pv_...') AS url
  FROM profile.claim_verification_mails(10) m WHERE m->>'tenant' = 've-mail';
ROLLBACK;
BEGIN;
SELECT m->>'outbox_id' AS m1 FROM profile.claim_verification_mails(10) m WHERE m->>'email' = 'm1@example.com' \gset
SELECT profile.mark_verification_sent(:m1);
COMMIT;
SELECT m->>'email' AS still_pending FROM profile.claim_verification_mails() m WHERE m->>'tenant' = 've-mail';
SELECT regress.err($$SELECT * FROM profile.claim_verification_mails(0)$$);
-- a verifying tenant with neither a verificationUrl nor a verification_url
SELECT profile.create_tenant('ve-none', '{"verification": true, "required_contract": null}') IS NOT NULL;
SELECT regress.try('{"tenantName": "ve-none", "email": "v4@example.com"}')->'detail';

-- update_profile keeps the gate: an unverified profile cannot be enabled
SELECT id AS m2 FROM profile_data.profiles WHERE email = 'm2@example.com' \gset
CREATE FUNCTION regress.upd(id uuid, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
	RETURN profile.update_profile(id, payload) - '{id,trace_id,created_at,updated_at}'::text[];
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regress.error_doc(st, msg, det);
END
$$;
SELECT regress.upd(:'m2', '{"tenantName": "ve-mail", "enabled": true}')->'detail';
SELECT regress.upd(:'m2', '{"tenantName": "ve-mail", "status": null}')->'detail';
SELECT r->'enabled', r->'verified' FROM regress.upd(:'m2', '{"tenantName": "ve-mail", "full_name": "M Two"}') r;
-- once verified it can; a changed email makes it unverified and disabled
-- again, with a new token for the new address and the old ones ended
SELECT substring(m->>'url' FROM 'token=(pv_[A-Za-z0-9_-]{43})') AS m2token
  FROM profile.claim_verification_mails() m WHERE m->>'email' = 'm2@example.com' \gset
SELECT regress.ver(:'m2token')->'verified';
SELECT r->'enabled', r->'verified' FROM regress.upd(:'m2', '{"tenantName": "ve-mail", "enabled": false}') r;
SELECT r->'enabled', r->'verified' FROM regress.upd(:'m2', '{"tenantName": "ve-mail", "enabled": true}') r;
SELECT r->'enabled', r->'verified', r->'email' FROM regress.upd(:'m2', '{"tenantName": "ve-mail", "email": "M2@Example.COM"}') r;
SELECT r->'enabled', r->'verified', r->'email' FROM regress.upd(:'m2', '{"tenantName": "ve-mail", "email": "m2.newer@example.com"}') r;
SELECT r->'enabled', r->'verified', r->'email' FROM regress.upd(:'m2', '{"tenantName": "ve-mail", "email": "m2.new@example.com"}') r;
SELECT count(*) FILTER (WHERE used_at IS NULL AND revoked_at IS NULL) AS live_tokens,
	   count(*) FILTER (WHERE revoked_at IS NOT NULL) AS ended_tokens
  FROM profile_data.verification_tokens WHERE profile_id = :'m2';
SELECT m->>'email' AS email, regexp_replace(m->>'url', 'pv_[A-Za-z0-9_-]{43}', 'pv_...') AS url
  FROM profile.claim_verification_mails() m WHERE m->>'profile_id' = :'m2';
SELECT event, data->'changes'->'verified' AS verified, data->'changes'->'enabled' AS enabled
  FROM profile_data.audit_events WHERE profile_id = :'m2' ORDER BY chain_seq;

-- an SDK registration in a verifying tenant starts disabled too (it has no
-- address to verify yet)
SELECT r->>'audit_events' FROM profile.register_user_profile('11111111-1111-4111-8111-111111111111',
	'{"tenantName": "ve-mail", "countryCode": "FI"}') r;
SELECT enabled, verified FROM profile_data.profiles WHERE id = '11111111-1111-4111-8111-111111111111';
