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

ALTER TABLE profile_data.profiles DROP CONSTRAINT profiles_state_check,
	ADD CONSTRAINT profiles_state_check
	CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['complete', 'incomplete']));
ALTER TABLE profile_data.audit_events DROP CONSTRAINT audit_events_source_check,
	ADD CONSTRAINT audit_events_source_check
	CHECK (source OPERATOR(pg_catalog.=) ANY (ARRAY['db', 'sdk']));
ALTER TABLE profile_data.role_grants DROP CONSTRAINT role_grants_privilege_check,
	ADD CONSTRAINT role_grants_privilege_check
	CHECK (privilege OPERATOR(pg_catalog.=) ANY (ARRAY['admin', 'api', 'claims']));

----------------------------------------------------------------------------
-- Security (1.1)
----------------------------------------------------------------------------

-- The lengths and formats the C code relies on when it reads stored rows.
-- The code checks them itself as well (a damaged row is an error, never a
-- crash); the constraints keep such rows out.  They are added NOT VALID and
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
ALTER TABLE profile_data.audit_events ADD CONSTRAINT audit_events_hash_check
	CHECK (pg_catalog.octet_length(hash) OPERATOR(pg_catalog.=) 32
		   AND (prev_hash IS NULL OR pg_catalog.octet_length(prev_hash) OPERATOR(pg_catalog.=) 32)
		   AND chain_seq OPERATOR(pg_catalog.>) 0) NOT VALID;
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
				'audit_events_hash_check', 'audit_seals_hash_check', 'audit_seal_heads_hash_check'])
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
-- Tenant settings (1.1): every stored document gets the new keys with
-- their defaults, so that readers never need to know them.
----------------------------------------------------------------------------

UPDATE profile_data.tenants
   SET settings = '{"verification_url": null}'::jsonb OPERATOR(pg_catalog.||) settings;

COMMENT ON FUNCTION profile.create_tenant(text, jsonb) IS $$Create a tenant

name: 1 to 64 of a-z, 0-9, . _ -.  settings: any of enabled, required_contract, complete_fields, incomplete_profiles, wizard_url, verification, verification_ttl, verification_url, default_roles, allowed_roles, rate_limit; unknown keys and wrong types are rejected.$$;

----------------------------------------------------------------------------
-- Privileges of the functions this update adds: none for PUBLIC; the
-- roles marked earlier get what grant_admin and grant_api give.
----------------------------------------------------------------------------

REVOKE ALL ON FUNCTION profile.claim_verification_mails(integer) FROM PUBLIC;

DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT role FROM profile_data.role_grants
			  WHERE privilege OPERATOR(pg_catalog.=) 'admin'
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION profile.claim_verification_mails(integer) TO %s', r.role);
	END LOOP;
END
$$;
