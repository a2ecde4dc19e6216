/* profile_ext--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION profile_ext UPDATE TO '1.1'" to load this file. \quit

----------------------------------------------------------------------------
-- Why the API functions are SECURITY INVOKER
--
-- profile.create_profile, update_profile, register_user_profile and
-- verify_profile (and the 1.1 API functions) must know who calls them: the
-- admin principal and trusted JWT claims depend on current_user, which a
-- SECURITY DEFINER function would hide.  The caller needs only EXECUTE and
-- nothing on profile_data.  Once the caller is known, the C code acts as
-- the owner of profile_data for its own statements, inside a
-- security-restricted operation with search_path = pg_catalog, pg_temp
-- (src/base/spi.c).  The admin functions need no caller identity beyond
-- their EXECUTE privilege and are SECURITY DEFINER with the same pinned
-- search_path.
----------------------------------------------------------------------------

----------------------------------------------------------------------------
-- Structure (1.1): the C functions are bound to symbols named after their
-- SQL functions (1.0's names stay in the library for 1.0's script), and the
-- CHECK constraints of 1.0 use schema-qualified operators.
----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION profile_data.check_profile_row() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'check_profile_row';
CREATE OR REPLACE FUNCTION profile_data.audit_profile_change() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'audit_profile_change';
CREATE OR REPLACE FUNCTION profile_data.refuse_change() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'refuse_change';
CREATE OR REPLACE FUNCTION profile_data.invalidate_caches() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'invalidate_caches';

-- The two tables every API call writes keep no CHECK constraints:
-- PostgreSQL 15 parses and plans a table's CHECK constraints again for
-- every statement that writes it, which cost a create_profile call a tenth
-- of its time.  The C code checks instead: the row trigger refuses a state
-- other than 'complete' or 'incomplete' in a direct write (the API writes
-- no other), only the extension appends audit events, and whatever reads
-- a stored event checks its lengths (a damaged row is an error, never a
-- crash).  The one kept, profiles_api_mark_taken, costs next to nothing.
ALTER TABLE profile_data.profiles DROP CONSTRAINT profiles_state_check;
ALTER TABLE profile_data.audit_events DROP CONSTRAINT audit_events_source_check;
ALTER TABLE profile_data.role_grants DROP CONSTRAINT role_grants_privilege_check,
	ADD CONSTRAINT role_grants_privilege_check
	CHECK (privilege OPERATOR(pg_catalog.=) ANY (ARRAY['admin', 'api', 'claims']));

----------------------------------------------------------------------------
-- Security (1.1)
----------------------------------------------------------------------------

-- The lengths and formats the C code relies on when it reads stored rows.
-- The code checks them itself as well (a damaged row is an error, never a
-- crash); the constraints keep such rows out (but from audit_events, see
-- "Structure").  They are added NOT VALID and
-- then validated: a database holding rows that break them (possible only
-- behind the extension's back) keeps its rows, and the update says which
-- constraint stays unvalidated.
ALTER TABLE profile_data.tenants ADD CONSTRAINT tenants_name_check
	CHECK ((name COLLATE pg_catalog."C") OPERATOR(pg_catalog.~) '^[a-z0-9._-]{1,64}$') NOT VALID;
ALTER TABLE profile_data.clients ADD CONSTRAINT clients_name_check
	CHECK ((name COLLATE pg_catalog."C") OPERATOR(pg_catalog.~) '^[a-z0-9._-]{1,64}$') NOT VALID;
ALTER TABLE profile_data.contracts ADD CONSTRAINT contracts_name_check
	CHECK ((name COLLATE pg_catalog."C") OPERATOR(pg_catalog.~) '^[a-z0-9._-]{1,64}$') NOT VALID;
ALTER TABLE profile_data.access_tokens ADD CONSTRAINT access_tokens_token_hash_check
	CHECK (pg_catalog.octet_length(token_hash) OPERATOR(pg_catalog.=) 32) NOT VALID;
ALTER TABLE profile_data.verification_tokens ADD CONSTRAINT verification_tokens_token_hash_check
	CHECK (pg_catalog.octet_length(token_hash) OPERATOR(pg_catalog.=) 32) NOT VALID;
ALTER TABLE profile_data.audit_seals ADD CONSTRAINT audit_seals_hash_check
	CHECK (pg_catalog.octet_length(hash) OPERATOR(pg_catalog.=) 32
		   AND (prev_hash IS NULL OR pg_catalog.octet_length(prev_hash) OPERATOR(pg_catalog.=) 32)
		   AND seal_seq OPERATOR(pg_catalog.>) 0 AND heads OPERATOR(pg_catalog.>=) 0) NOT VALID;
ALTER TABLE profile_data.audit_seal_heads ADD CONSTRAINT audit_seal_heads_hash_check
	CHECK (pg_catalog.octet_length(hash) OPERATOR(pg_catalog.=) 32) NOT VALID;

DO $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT conrelid::pg_catalog.regclass AS rel, conname FROM pg_catalog.pg_constraint
			  WHERE NOT convalidated AND conname OPERATOR(pg_catalog.=) ANY (ARRAY[
				'tenants_name_check', 'clients_name_check', 'contracts_name_check',
				'access_tokens_token_hash_check', 'verification_tokens_token_hash_check',
				'audit_seals_hash_check', 'audit_seal_heads_hash_check'])
				AND connamespace OPERATOR(pg_catalog.=) 'profile_data'::pg_catalog.regnamespace
	LOOP
		BEGIN
			EXECUTE pg_catalog.format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.rel, c.conname);
		EXCEPTION WHEN check_violation THEN
			RAISE WARNING 'table % holds rows that break constraint %; it stays NOT VALID', c.rel, c.conname
				USING HINT = 'Such rows were changed behind the extension''s back; profile_ext reports them as damaged when it reads them.';
		END;
	END LOOP;
END
$$;

-- Verification links wait in the outbox, which only admin roles can read;
-- NOTIFY profile_verification carries {"outbox_id", "tenant"} and nothing
-- else.  mark_verification_sent erases the link.
ALTER TABLE profile_data.verification_outbox ADD COLUMN link text;
COMMENT ON COLUMN profile_data.verification_outbox.link IS 'The link with its token, until the mail is marked sent (then NULL); admin roles only';
COMMENT ON TABLE profile_data.verification_outbox IS 'Verification mails to send: the durable record a mailer works from (claim_verification_mails); NOTIFY profile_verification only says that one is waiting';

CREATE FUNCTION profile.claim_verification_mails(max_mails integer DEFAULT 100) RETURNS SETOF jsonb
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	ROWS 100
	AS 'MODULE_PATHNAME', 'claim_verification_mails';
COMMENT ON FUNCTION profile.claim_verification_mails(integer) IS $$Take pending verification mails (for the mailer)

Returns up to max_mails mails {outbox_id, tenant, profile_id, email, url}, the oldest first, locked until the calling transaction ends: two mailers never get the same mail, and a mail not confirmed with mark_verification_sent before the transaction ends is handed out again.$$;

COMMENT ON FUNCTION profile.mark_verification_sent(bigint) IS $$Confirm that a verification mail was sent (for the mailer)

Records the sending and erases the link (and with it the token) from the outbox.$$;

COMMENT ON FUNCTION profile.resend_verification(bigint) IS $$Issue a new verification link for an outbox row (for the mailer)

The profile's earlier tokens stop working and the mail is pending again; returns {outbox_id, tenant, profile_id, email, url}.$$;

----------------------------------------------------------------------------
-- Identity (1.1): usernames, emails and phones unique by keys computed in
-- C, the same in every database locale; profile ids unique across tenants.
----------------------------------------------------------------------------

CREATE FUNCTION profile_data.username_key(text) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'username_key';
COMMENT ON FUNCTION profile_data.username_key(text) IS 'The NFKC_Casefold key by which usernames are unique in a tenant';
CREATE FUNCTION profile_data.username_skeleton(text) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'username_skeleton';
COMMENT ON FUNCTION profile_data.username_skeleton(text) IS 'The UTS #39 skeleton of a username''s key: unique in tenants with username_uniqueness "confusable"';
CREATE FUNCTION profile_data.username_shape(text) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'username_shape';
COMMENT ON FUNCTION profile_data.username_shape(text) IS 'The skeleton of the NFKC_Casefold of a username''s skeleton: unique in tenants with username_uniqueness "confusable", so that look-alikes differing in case (Greek capitals that look Latin) collide too';
CREATE FUNCTION profile_data.email_key(text) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'email_key';
COMMENT ON FUNCTION profile_data.email_key(text) IS 'The key by which emails are unique in a tenant: the address lower-cased in ASCII';
CREATE FUNCTION profile_data.username_rule(text) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'username_rule';
COMMENT ON FUNCTION profile_data.username_rule(text) IS 'The 1.1 username rule a value breaks (length, format, mixed_script, nfc), or NULL';
CREATE FUNCTION profile_data.phone_key(text) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'phone_key';
COMMENT ON FUNCTION profile_data.phone_key(text) IS 'The key by which phone numbers are unique in a tenant: the number in E.164 as libphonenumber parses it (a value that does not parse is its own key)';
CREATE FUNCTION profile_data.phone_rule(text) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'phone_rule';
COMMENT ON FUNCTION profile_data.phone_rule(text) IS 'The 1.1 phone rule a stored value breaks (format, calling_code, length, invalid, canonical), or NULL';

ALTER TABLE profile_data.profiles
	ADD COLUMN username_key text COLLATE pg_catalog."C",
	ADD COLUMN username_skeleton text COLLATE pg_catalog."C",
	ADD COLUMN username_shape text COLLATE pg_catalog."C",
	ADD COLUMN email_key text COLLATE pg_catalog."C",
	ADD COLUMN phone_key text COLLATE pg_catalog."C";
COMMENT ON COLUMN profile_data.profiles.username_key IS 'Derived: the username''s NFKC_Casefold key (unique per tenant)';
COMMENT ON COLUMN profile_data.profiles.username_skeleton IS 'Derived: the skeleton of username_key, in tenants with username_uniqueness "confusable" (unique per tenant)';
COMMENT ON COLUMN profile_data.profiles.username_shape IS 'Derived: the skeleton of the case-folded skeleton of the username, in tenants with username_uniqueness "confusable" (unique per tenant)';
COMMENT ON COLUMN profile_data.profiles.email_key IS 'Derived: the email lower-cased in ASCII (unique per tenant)';
COMMENT ON COLUMN profile_data.profiles.phone_key IS 'Derived: the phone number in E.164 (unique per tenant)';

CREATE TABLE profile_data.profile_ids (
	id			uuid NOT NULL PRIMARY KEY,
	tenant_id	bigint NOT NULL,
	claimed_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE profile_data.profile_ids IS 'Every profile id ever stored, with its tenant: ids are unique across tenants and never reused (keyed by the id alone, so it distributes by id)';
SELECT pg_catalog.pg_extension_config_dump('profile_data.profile_ids', '');

CREATE TABLE profile_data.identity_conflicts (
	tenant_id	bigint NOT NULL,
	field		text NOT NULL,
	rule		text NOT NULL,
	profile_ids uuid[] NOT NULL,
	value		text COLLATE pg_catalog."C",
	found_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE profile_data.identity_conflicts IS 'Rows the 1.1 update found breaking a 1.1 identity rule or colliding under the 1.1 keys';
COMMENT ON COLUMN profile_data.identity_conflicts.value IS 'The value that breaks the rule, or the key the group shares (NULL for ids)';
SELECT pg_catalog.pg_extension_config_dump('profile_data.identity_conflicts', '');

-- The keys of the existing rows.  The update changes no stored value: it
-- fills in the derived columns (so no audit event), lists what breaks a
-- 1.1 rule or collides, and leaves the key of every colliding row but the
-- oldest of each group null, so the unique indexes can be built and no row
-- is merged or lost.  Listed rows keep working; new writes meet the rules.
ALTER TABLE profile_data.profiles DISABLE TRIGGER check_row, DISABLE TRIGGER audit_change;
UPDATE profile_data.profiles
   SET username_key = profile_data.username_key(username),
	   email_key = profile_data.email_key(email),
	   phone_key = profile_data.phone_key(mobile_phone_number);

INSERT INTO profile_data.identity_conflicts (tenant_id, field, rule, profile_ids, value)
SELECT tenant_id, 'username', profile_data.username_rule(username), ARRAY[id], username
  FROM profile_data.profiles
 WHERE username IS NOT NULL AND profile_data.username_rule(username) IS NOT NULL;

INSERT INTO profile_data.identity_conflicts (tenant_id, field, rule, profile_ids, value)
SELECT tenant_id, 'mobile_phone_number', profile_data.phone_rule(mobile_phone_number), ARRAY[id],
	   mobile_phone_number
  FROM profile_data.profiles
 WHERE mobile_phone_number IS NOT NULL AND profile_data.phone_rule(mobile_phone_number) IS NOT NULL;

INSERT INTO profile_data.identity_conflicts (tenant_id, field, rule, profile_ids, value)
SELECT tenant_id, field, 'unique', ids, key FROM (
	SELECT tenant_id, 'username' AS field, pg_catalog.array_agg(id ORDER BY created_at, id) AS ids,
		   username_key AS key
	  FROM profile_data.profiles WHERE username_key IS NOT NULL
	 GROUP BY tenant_id, username_key HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1
	UNION ALL
	SELECT tenant_id, 'email', pg_catalog.array_agg(id ORDER BY created_at, id), email_key
	  FROM profile_data.profiles WHERE email_key IS NOT NULL
	 GROUP BY tenant_id, email_key HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1
	UNION ALL
	SELECT tenant_id, 'mobile_phone_number', pg_catalog.array_agg(id ORDER BY created_at, id), phone_key
	  FROM profile_data.profiles WHERE phone_key IS NOT NULL
	 GROUP BY tenant_id, phone_key HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1
) c;

-- an id stored in several tenants (1.0 did not serialise them): listed in
-- each; the oldest profile keeps the claim
INSERT INTO profile_data.identity_conflicts (tenant_id, field, rule, profile_ids)
SELECT p.tenant_id, 'id', 'unique', ARRAY[p.id]
  FROM profile_data.profiles p
 WHERE p.id OPERATOR(pg_catalog.=) ANY (
		SELECT id FROM profile_data.profiles GROUP BY id HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1);
INSERT INTO profile_data.profile_ids (id, tenant_id, claimed_at)
SELECT DISTINCT ON (id) id, tenant_id, created_at FROM profile_data.profiles
 ORDER BY id, created_at, tenant_id;
-- the ids of profiles 1.0 deleted: their events stay, so their ids stay
-- taken too (a new profile starts a chain of its own)
INSERT INTO profile_data.profile_ids (id, tenant_id, claimed_at)
SELECT DISTINCT ON (profile_id) profile_id, tenant_id, recorded_at FROM profile_data.audit_events
 ORDER BY profile_id, recorded_at, tenant_id
    ON CONFLICT (id) DO NOTHING;

-- a row later in several groups (its username and its phone, say) loses
-- each of those keys: one row of c per profile
UPDATE profile_data.profiles p
   SET username_key = CASE WHEN c.username THEN NULL ELSE p.username_key END,
	   email_key = CASE WHEN c.email THEN NULL ELSE p.email_key END,
	   phone_key = CASE WHEN c.phone THEN NULL ELSE p.phone_key END
  FROM (SELECT tenant_id, id,
			   pg_catalog.bool_or(field OPERATOR(pg_catalog.=) 'username') AS username,
			   pg_catalog.bool_or(field OPERATOR(pg_catalog.=) 'email') AS email,
			   pg_catalog.bool_or(field OPERATOR(pg_catalog.=) 'mobile_phone_number') AS phone
		  FROM (SELECT tenant_id, field, pg_catalog.unnest(profile_ids[2:]) AS id
				  FROM profile_data.identity_conflicts WHERE rule OPERATOR(pg_catalog.=) 'unique'
				   AND field OPERATOR(pg_catalog.<>) 'id') g
		 GROUP BY tenant_id, id) c
 WHERE p.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND p.id OPERATOR(pg_catalog.=) c.id;
ALTER TABLE profile_data.profiles ENABLE TRIGGER check_row, ENABLE TRIGGER audit_change;

DROP INDEX profile_data.profiles_username_key;
DROP INDEX profile_data.profiles_email_key;
DROP INDEX profile_data.profiles_phone_key;
-- partial: a profile without a username (or skeleton, email, phone) costs
-- its index nothing
CREATE UNIQUE INDEX profiles_username_key ON profile_data.profiles (tenant_id, username_key)
	WHERE username_key IS NOT NULL;
CREATE UNIQUE INDEX profiles_username_skeleton_key ON profile_data.profiles (tenant_id, username_skeleton)
	WHERE username_skeleton IS NOT NULL;
CREATE UNIQUE INDEX profiles_username_shape_key ON profile_data.profiles (tenant_id, username_shape)
	WHERE username_shape IS NOT NULL;
CREATE UNIQUE INDEX profiles_email_key ON profile_data.profiles (tenant_id, email_key)
	WHERE email_key IS NOT NULL;
CREATE UNIQUE INDEX profiles_phone_key ON profile_data.profiles (tenant_id, phone_key)
	WHERE phone_key IS NOT NULL;
-- 1.0 looked profiles up by id alone here; profile_data.profile_ids does that now
DROP INDEX profile_data.profiles_id_idx;
COMMENT ON TABLE profile_data.profiles IS 'Profiles; username, email and phone unique per tenant by their keys (username_key, email_key, phone_key), the same in every database locale';

-- What is still unresolved: a rule's row while it holds the value found; a
-- group while one of its later profiles has no key (renaming it, or
-- writing its value again once the first is gone, gives it one); an id
-- while another tenant holds it too.
CREATE VIEW profile.identity_conflicts AS
	SELECT t.name AS tenant, c.field, c.rule, c.profile_ids, c.value, c.found_at
	  FROM profile_data.identity_conflicts c
	  JOIN profile_data.tenants t ON t.id OPERATOR(pg_catalog.=) c.tenant_id
	 WHERE EXISTS (
		SELECT FROM profile_data.profiles p
		 WHERE p.tenant_id OPERATOR(pg_catalog.=) c.tenant_id
		   AND p.id OPERATOR(pg_catalog.=) ANY (c.profile_ids)
		   AND CASE
				WHEN c.field OPERATOR(pg_catalog.=) 'id' THEN EXISTS (
					SELECT FROM profile_data.profiles o
					 WHERE o.id OPERATOR(pg_catalog.=) p.id
					   AND o.tenant_id OPERATOR(pg_catalog.<>) p.tenant_id)
				WHEN c.rule OPERATOR(pg_catalog.<>) 'unique' THEN
					CASE c.field
						WHEN 'username' THEN p.username COLLATE pg_catalog."C" OPERATOR(pg_catalog.=) c.value
						ELSE p.mobile_phone_number COLLATE pg_catalog."C" OPERATOR(pg_catalog.=) c.value
					END
				WHEN c.field OPERATOR(pg_catalog.=) 'username' THEN
					p.username IS NOT NULL AND p.username_key IS NULL
				WHEN c.field OPERATOR(pg_catalog.=) 'email' THEN
					p.email IS NOT NULL AND p.email_key IS NULL
				ELSE p.mobile_phone_number IS NOT NULL AND p.phone_key IS NULL
			   END);
COMMENT ON VIEW profile.identity_conflicts IS 'Profiles the 1.1 update found breaking a 1.1 identity rule (field, rule, value) or colliding under the 1.1 keys (rule "unique": the group, oldest first, which alone keeps the key), while unresolved (admin view; README, "Upgrading")';

DO $$
DECLARE
	n bigint;
BEGIN
	SELECT pg_catalog.count(DISTINCT (tenant_id, x)) INTO n
	  FROM profile_data.identity_conflicts, pg_catalog.unnest(profile_ids) x;
	IF n OPERATOR(pg_catalog.>) 0 THEN
		RAISE WARNING 'profile_ext 1.1: % existing profiles break a 1.1 identity rule or collide under the 1.1 keys', n
			USING DETAIL = 'They are listed in the view profile.identity_conflicts and keep working.',
				  HINT = 'See the README, "Upgrading", on resolving them.';
	END IF;
END
$$;

----------------------------------------------------------------------------
-- Lifecycle (1.1): reading, deleting and erasing profiles.  Events of the
-- 1.1 chain commit to their content through a salted hash, so erasure can
-- remove the content and keep the chain verifiable (see the banner of
-- src/audit/chain.c and the README, "Erasure").  1.0's events keep their
-- version 1 hash and no salt.
----------------------------------------------------------------------------

ALTER TABLE profile_data.audit_events
	ALTER COLUMN data DROP NOT NULL,
	ADD COLUMN salt bytea,
	ADD COLUMN content_hash bytea,
	ADD COLUMN erased_at timestamptz;
COMMENT ON COLUMN profile_data.audit_events.data IS 'The event''s content; NULL once erased (erase_profile)';
COMMENT ON COLUMN profile_data.audit_events.salt IS 'Random salt of the content''s commitment (events written by 1.1); NULL for 1.0''s events and once erased';
COMMENT ON COLUMN profile_data.audit_events.content_hash IS 'The commitment SHA-256(salt, data) of an erased 1.1 event, which its hash covers';
COMMENT ON COLUMN profile_data.audit_events.erased_at IS 'When erase_profile removed the content';
COMMENT ON COLUMN profile_data.audit_events.hash IS 'SHA-256 of prev_hash and the event''s canonical content: 1.0 over the data''s text, 1.1 over the content''s commitment (see profile.verify_audit_chain)';

ALTER TABLE profile_data.profile_ids ADD COLUMN erased_at timestamptz;
COMMENT ON COLUMN profile_data.profile_ids.erased_at IS 'When erase_profile erased the profile (its id stays taken)';

CREATE OR REPLACE VIEW profile.audit_events AS
	SELECT e.id, e.recorded_at, e.occurred_at, t.name AS tenant, e.profile_id,
		   e.client, e.source, e.event, e.session_id, e.transaction_group_id,
		   e.trace_id, e.data, e.erased_at
	  FROM profile_data.audit_events e
	  JOIN profile_data.tenants t ON t.id OPERATOR(pg_catalog.=) e.tenant_id;
COMMENT ON VIEW profile.audit_events IS 'Audit events of every tenant; data is NULL for an erased event (admin view)';

CREATE FUNCTION profile.get_profile(id uuid, payload jsonb DEFAULT '{}') RETURNS jsonb
	LANGUAGE C STABLE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'get_profile';
COMMENT ON FUNCTION profile.get_profile(uuid, jsonb) IS $$Read a profile

The profile document, as create_profile returns it (never a password).  payload: accessTokenId (and tenantName), or {} for trusted JWT claims and admins; the tenant is the profile's own.  PROFILE_NOT_FOUND for an unknown id or one the caller may not use.  STABLE: PostgREST serves it to GET /rpc/get_profile?id=...$$;

CREATE FUNCTION profile.find_profile(payload jsonb) RETURNS jsonb
	LANGUAGE C STABLE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'find_profile';
COMMENT ON FUNCTION profile.find_profile(jsonb) IS $$Find a profile by its username, email or phone number

payload: exactly one of username, email and mobile_phone_number (aliases allowed), matched by the keys uniqueness uses (JOHN.Doe finds john.doe, 0049 151 ... finds +49151...), plus accessTokenId and tenantName.  The profile document, or PROFILE_NOT_FOUND.$$;

CREATE FUNCTION profile.delete_profile(id uuid, payload jsonb DEFAULT '{}') RETURNS jsonb
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'delete_profile';
COMMENT ON FUNCTION profile.delete_profile(uuid, jsonb) IS $$Delete a profile

Removes the profile with its verification tokens and mails; audited as profile.deleted; the id stays taken.  Requires the tenant's contract.  {"id", "deleted": true, "trace_id"}.$$;

CREATE FUNCTION profile.erase_profile(id uuid, payload jsonb DEFAULT '{}') RETURNS jsonb
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'erase_profile';
COMMENT ON FUNCTION profile.erase_profile(uuid, jsonb) IS $$Erase a profile (right to erasure)

Removes the profile (also one deleted earlier) and every personal value it left in the extension's tables: the content of its audit events, its verification tokens and mails.  Records profile.erased; verify_audit_chain still verifies the tenant and counts the erased events.  Requires the tenant's contract.  {"id", "erased": true, "events_erased", "trace_id"}.$$;

COMMENT ON FUNCTION profile.update_profile(uuid, jsonb) IS $$Change a profile, for example to complete an incomplete one

payload: the fields to change, with the names, aliases and rules of create_profile (null clears a field), plus accessTokenId and tenantName; the tenant is the profile's own.  An incomplete profile becomes complete when the tenant's last missing complete_fields entry arrives.  PROFILE_NOT_FOUND for an unknown id or one the caller may not use.$$;

----------------------------------------------------------------------------
-- Batches (1.1).
----------------------------------------------------------------------------

CREATE FUNCTION profile.create_profiles(jsonb) RETURNS jsonb
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'create_profiles';
COMMENT ON FUNCTION profile.create_profiles(jsonb) IS $$Create up to 1000 profiles in one call

The whole request body: accessTokenId, tenantName, idempotencyKey and "profiles", an array of 1 to 1000 objects with create_profile's fields.  Principal, tenant, contract and rate limit are checked once; each item is checked and stored on its own.  {"created", "failed", "results": [{"index", "ok", "profile" | "error"}], "trace_id"}.$$;

----------------------------------------------------------------------------
-- Idempotent calls (1.1): the result of the first call with a key, kept
-- for the tenant's idempotency_ttl (src/store/idempotency.c).
----------------------------------------------------------------------------

CREATE TABLE profile_data.idempotency_keys (
	tenant_id	bigint NOT NULL,
	client		text NOT NULL,
	function	text NOT NULL,
	key			text NOT NULL,
	request_hash bytea NOT NULL,
	result		jsonb,
	http_status integer,
	profile_ids uuid[] NOT NULL DEFAULT '{}',
	password_hashes text[],
	created_at	timestamptz NOT NULL,
	expires_at	timestamptz NOT NULL,
	PRIMARY KEY (tenant_id, client, function, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON profile_data.idempotency_keys (tenant_id, expires_at);
COMMENT ON TABLE profile_data.idempotency_keys IS 'Results of calls with an idempotency key, replayed to retries until expires_at; erasing a profile removes the results that show it';
COMMENT ON COLUMN profile_data.idempotency_keys.request_hash IS 'SHA-256 of the request without access token, tenant, key and password values: what a retry must match';
COMMENT ON COLUMN profile_data.idempotency_keys.password_hashes IS 'Argon2id hash of the request''s password, by item; of several passwords, one hash of them all; what a retry''s must match (never a plain hash)';
SELECT pg_catalog.pg_extension_config_dump('profile_data.idempotency_keys', '');

CREATE FUNCTION profile.purge_idempotency_keys(tenant text DEFAULT NULL) RETURNS bigint
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'purge_idempotency_keys';
COMMENT ON FUNCTION profile.purge_idempotency_keys(text) IS $$Remove expired idempotency keys

Of one tenant, or of every tenant; returns how many.  Calls with keys remove a few expired ones on the way, so this is optional; pg_cron can run it, e.g. SELECT cron.schedule('*/10 * * * *', 'SELECT profile.purge_idempotency_keys()').$$;

----------------------------------------------------------------------------
-- Tenant settings (1.1): every stored document gets the new keys with
-- their defaults, so that readers never need to know them.
----------------------------------------------------------------------------

UPDATE profile_data.tenants
   SET settings = '{"verification_url": null, "username_uniqueness": "casefold",
					"phone_types": null, "idempotency_ttl": "24 hours"}'::jsonb OPERATOR(pg_catalog.||) settings;

COMMENT ON FUNCTION profile.create_tenant(text, jsonb) IS $$Create a tenant

name: 1 to 64 of a-z, 0-9, . _ -.  settings: any of enabled, required_contract, complete_fields, incomplete_profiles, wizard_url, verification, verification_ttl, verification_url, default_roles, allowed_roles, rate_limit, username_uniqueness, phone_types, idempotency_ttl; unknown keys and wrong types are rejected.$$;

----------------------------------------------------------------------------
-- Scale-out (1.1): row marks, so that the row triggers know an API call's
-- rows wherever they fire (in the calling backend, or on the Citus worker
-- holding the row's shard); profile.distribute() (README, "Scaling out
-- with Citus").
----------------------------------------------------------------------------

ALTER TABLE profile_data.profiles ADD COLUMN api_mark text;
COMMENT ON COLUMN profile_data.profiles.api_mark IS 'Always null when stored: an API call writes its client and trace id here, and the row trigger takes them off the row (src/audit/audit.c, "Marks"); only the owner of profile_data may write it';
ALTER TABLE profile_data.profiles ADD CONSTRAINT profiles_api_mark_taken CHECK (api_mark IS NULL);

-- deletions too: the trigger forgets a mark a direct DELETE does not carry
DROP TRIGGER check_row ON profile_data.profiles;
CREATE TRIGGER check_row BEFORE INSERT OR UPDATE OR DELETE ON profile_data.profiles
	FOR EACH ROW EXECUTE FUNCTION profile_data.check_profile_row();

CREATE FUNCTION profile.distribute() RETURNS jsonb
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'distribute';
COMMENT ON FUNCTION profile.distribute() IS $$Distribute the tables on a Citus cluster

Run by a superuser on the coordinator, after CREATE EXTENSION citus and CREATE EXTENSION profile_ext (on every node).  Per-tenant tables are distributed by tenant_id, colocated with profiles; profile_ids by id; the others become reference tables.  Run it again after adding workers.  Reports what it did.$$;
REVOKE ALL ON FUNCTION profile.distribute() FROM PUBLIC;

----------------------------------------------------------------------------
-- Privileges of the functions this update adds: none for PUBLIC; the
-- roles marked earlier get what grant_admin and grant_api give.
----------------------------------------------------------------------------

REVOKE ALL ON FUNCTION profile.claim_verification_mails(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION profile.get_profile(uuid, jsonb), profile.find_profile(jsonb),
	profile.delete_profile(uuid, jsonb), profile.erase_profile(uuid, jsonb),
	profile.create_profiles(jsonb), profile.purge_idempotency_keys(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION profile_data.username_key(text), profile_data.username_skeleton(text),
	profile_data.username_shape(text),
	profile_data.email_key(text), profile_data.username_rule(text), profile_data.phone_key(text),
	profile_data.phone_rule(text) FROM PUBLIC;
REVOKE ALL ON profile.identity_conflicts FROM PUBLIC;

DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT role FROM profile_data.role_grants
			  WHERE privilege OPERATOR(pg_catalog.=) 'admin'
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION profile.claim_verification_mails(integer) TO %s', r.role);
		EXECUTE pg_catalog.format('GRANT SELECT ON profile.identity_conflicts TO %s', r.role);
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION profile.purge_idempotency_keys(text) TO %s', r.role);
	END LOOP;
	FOR r IN SELECT role FROM profile_data.role_grants
			  WHERE privilege OPERATOR(pg_catalog.=) ANY (ARRAY['admin', 'api'])
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION profile.get_profile(uuid, jsonb),'
			' profile.find_profile(jsonb), profile.delete_profile(uuid, jsonb),'
			' profile.erase_profile(uuid, jsonb), profile.create_profiles(jsonb) TO %s', r.role);
	END LOOP;
END
$$;
