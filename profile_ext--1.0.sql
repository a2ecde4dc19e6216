/* profile_ext--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION profile_ext" to load this file. \quit

DO $$
BEGIN
	IF pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.<>) 'UTF8' THEN
		RAISE EXCEPTION 'profile_ext requires a database with encoding UTF8'
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Create the database with ENCODING ''UTF8''.';
	END IF;
END
$$;

CREATE SCHEMA profile;
COMMENT ON SCHEMA profile IS 'profile_ext API and admin functions and admin views (safe to expose through PostgREST)';
CREATE SCHEMA profile_data;
COMMENT ON SCHEMA profile_data IS 'profile_ext tables; API roles have no privilege here';
REVOKE ALL ON SCHEMA profile, profile_data FROM PUBLIC;

----------------------------------------------------------------------------
-- Tables
--
-- Distribution-ready (Citus): per-tenant tables carry tenant_id, and every
-- primary and unique key of theirs contains it.  Configuration tables
-- (tenants, clients, tokens, contracts, role grants) are small and global.
-- No foreign key points from profiles to tenants: tenants are never
-- deleted, and a foreign key would make every insert lock the tenant row.
----------------------------------------------------------------------------

CREATE SEQUENCE profile_data.tenant_id_seq;
CREATE TABLE profile_data.tenants (
	id			bigint NOT NULL DEFAULT pg_catalog.nextval('profile_data.tenant_id_seq') PRIMARY KEY,
	name		text NOT NULL UNIQUE,
	settings	jsonb NOT NULL,
	enabled		boolean GENERATED ALWAYS AS ((settings OPERATOR(pg_catalog.->>) 'enabled')::boolean) STORED,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE profile_data.tenant_id_seq OWNED BY profile_data.tenants.id;
COMMENT ON TABLE profile_data.tenants IS 'Tenants: the isolation boundary; settings hold every key with its value or default';

CREATE SEQUENCE profile_data.client_id_seq;
CREATE TABLE profile_data.clients (
	id			bigint NOT NULL DEFAULT pg_catalog.nextval('profile_data.client_id_seq') PRIMARY KEY,
	name		text NOT NULL UNIQUE,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE profile_data.client_id_seq OWNED BY profile_data.clients.id;
COMMENT ON TABLE profile_data.clients IS 'Applications and partners that call the API';

CREATE SEQUENCE profile_data.access_token_id_seq;
CREATE TABLE profile_data.access_tokens (
	id			bigint NOT NULL DEFAULT pg_catalog.nextval('profile_data.access_token_id_seq') PRIMARY KEY,
	client_id	bigint NOT NULL REFERENCES profile_data.clients (id),
	token_hash	bytea NOT NULL UNIQUE,
	tenant_ids	bigint[],
	expires_at	timestamptz,
	revoked_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE profile_data.access_token_id_seq OWNED BY profile_data.access_tokens.id;
COMMENT ON TABLE profile_data.access_tokens IS 'Access tokens, stored only as the SHA-256 of the secret; tenant_ids NULL means any tenant';

CREATE SEQUENCE profile_data.contract_id_seq;
CREATE TABLE profile_data.contracts (
	id			bigint NOT NULL DEFAULT pg_catalog.nextval('profile_data.contract_id_seq') PRIMARY KEY,
	client_id	bigint NOT NULL REFERENCES profile_data.clients (id),
	name		text NOT NULL,
	valid_from	timestamptz NOT NULL,
	valid_until timestamptz,
	ended_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CHECK (valid_until IS NULL OR valid_until OPERATOR(pg_catalog.>) valid_from)
);
ALTER SEQUENCE profile_data.contract_id_seq OWNED BY profile_data.contracts.id;
CREATE INDEX contracts_client_name_idx ON profile_data.contracts (client_id, name);
COMMENT ON TABLE profile_data.contracts IS 'Contracts of clients; active when not ended and valid_from <= now() < valid_until';

CREATE TABLE profile_data.role_grants (
	role		regrole NOT NULL,
	privilege	text NOT NULL CHECK (privilege IN ('admin', 'api', 'claims')),
	granted_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (role, privilege)
);
COMMENT ON TABLE profile_data.role_grants IS 'Roles marked by grant_admin, grant_api and trust_claims';

CREATE TABLE profile_data.profiles (
	tenant_id	bigint NOT NULL,
	id			uuid NOT NULL,
	state		text NOT NULL DEFAULT 'complete' CHECK (state IN ('complete', 'incomplete')),
	username	text,
	password_hash text,
	email		text,
	mobile_phone_number text,
	country_code text,
	full_name	text,
	language	text,
	enabled		boolean NOT NULL DEFAULT true,
	verified	boolean NOT NULL DEFAULT false,
	roles		text[] NOT NULL DEFAULT '{}',
	attributes	jsonb NOT NULL DEFAULT '{}',
	verification_url text,
	access_level integer,
	membership_id integer,
	pending_membership_id integer,
	role_ids	integer[],
	mail_chimp_lists integer[],
	mail_chimp_interests integer[],
	mail_chimp_segments integer[],
	stored_selectors text[],
	social_login_provider text,
	social_login_id text,
	concierge_user_id text,
	stripe_customer_id text,
	ga_client_id text,
	status_comment text,
	referer		text,
	force_change_password boolean,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	first_login_at timestamptz,
	last_login_at timestamptz,
	PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX profiles_username_key ON profile_data.profiles (tenant_id, pg_catalog.lower(username));
CREATE UNIQUE INDEX profiles_email_key ON profile_data.profiles (tenant_id, pg_catalog.lower(email));
CREATE UNIQUE INDEX profiles_phone_key ON profile_data.profiles (tenant_id, mobile_phone_number);
CREATE INDEX profiles_id_idx ON profile_data.profiles (id);
COMMENT ON TABLE profile_data.profiles IS 'Profiles; username and email unique per tenant case-insensitively, phone unique per tenant';
COMMENT ON COLUMN profile_data.profiles.password_hash IS 'Argon2id hash (PHC string); never returned or audited';

CREATE SEQUENCE profile_data.audit_event_id_seq;
CREATE TABLE profile_data.audit_events (
	tenant_id	bigint NOT NULL,
	id			bigint NOT NULL DEFAULT pg_catalog.nextval('profile_data.audit_event_id_seq'),
	recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	occurred_at timestamptz NOT NULL,
	profile_id	uuid NOT NULL,
	client		text,
	source		text NOT NULL CHECK (source IN ('db', 'sdk')),
	event		text NOT NULL,
	session_id	uuid,
	transaction_group_id uuid,
	trace_id	uuid,
	data		jsonb NOT NULL DEFAULT '{}',
	chain_seq	integer NOT NULL,
	prev_hash	bytea,
	hash		bytea NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, profile_id, chain_seq)
);
ALTER SEQUENCE profile_data.audit_event_id_seq OWNED BY profile_data.audit_events.id;
COMMENT ON TABLE profile_data.audit_events IS 'Audit events, append-only and hash-chained per profile; never hold a password or a secret token';
COMMENT ON COLUMN profile_data.audit_events.chain_seq IS 'Position in the profile''s chain: 1, 2, 3, ...';
COMMENT ON COLUMN profile_data.audit_events.hash IS 'SHA-256 of prev_hash and the event''s canonical content (see profile.verify_audit_chain)';

CREATE TABLE profile_data.audit_seals (
	tenant_id	bigint NOT NULL,
	seal_seq	integer NOT NULL,
	sealed_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	sealed_by	text NOT NULL,
	heads		integer NOT NULL,
	prev_hash	bytea,
	hash		bytea NOT NULL,
	PRIMARY KEY (tenant_id, seal_seq)
);
COMMENT ON TABLE profile_data.audit_seals IS 'Tenant-level seals of the audit chains, themselves hash-chained; append-only';

CREATE TABLE profile_data.audit_seal_heads (
	tenant_id	bigint NOT NULL,
	seal_seq	integer NOT NULL,
	profile_id	uuid NOT NULL,
	chain_seq	integer NOT NULL,
	hash		bytea NOT NULL,
	PRIMARY KEY (tenant_id, seal_seq, profile_id)
);
CREATE INDEX audit_seal_heads_profile_idx ON profile_data.audit_seal_heads (tenant_id, profile_id, chain_seq);
COMMENT ON TABLE profile_data.audit_seal_heads IS 'The chain heads each seal covers (the chains that grew since the seal before it); append-only';

CREATE SEQUENCE profile_data.verification_id_seq;
CREATE TABLE profile_data.verification_tokens (
	tenant_id	bigint NOT NULL,
	id			bigint NOT NULL DEFAULT pg_catalog.nextval('profile_data.verification_id_seq'),
	profile_id	uuid NOT NULL,
	token_hash	bytea NOT NULL,
	client		text,
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,
	revoked_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX verification_tokens_hash_idx ON profile_data.verification_tokens (token_hash);
COMMENT ON TABLE profile_data.verification_tokens IS 'Single-use verification tokens, stored only as the SHA-256 of the secret';

CREATE TABLE profile_data.verification_outbox (
	tenant_id	bigint NOT NULL,
	id			bigint NOT NULL DEFAULT pg_catalog.nextval('profile_data.verification_id_seq'),
	profile_id	uuid NOT NULL,
	email		text,
	verification_url text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	sent_at		timestamptz,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX verification_outbox_unsent_idx ON profile_data.verification_outbox (id) WHERE sent_at IS NULL;
COMMENT ON TABLE profile_data.verification_outbox IS 'Verification mails to send: the durable record a mailer works from (NOTIFY profile_verification is the wake-up); holds the URL without its token';

-- pg_dump keeps the rows of extension tables only when they are registered
SELECT pg_catalog.pg_extension_config_dump('profile_data.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.tenant_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.clients', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.client_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.access_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.access_token_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.contracts', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.contract_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.role_grants', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.profiles', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.audit_events', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.audit_event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.audit_seals', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.verification_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.verification_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.verification_outbox', '');
SELECT pg_catalog.pg_extension_config_dump('profile_data.audit_seal_heads', '');

----------------------------------------------------------------------------
-- Triggers
----------------------------------------------------------------------------

CREATE FUNCTION profile_data.check_profile_row() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'profile_check_row_trigger';
COMMENT ON FUNCTION profile_data.check_profile_row() IS 'Trigger: direct writes to profile_data.profiles pass the same field rules and uniqueness as the API';
REVOKE ALL ON FUNCTION profile_data.check_profile_row() FROM PUBLIC;

CREATE TRIGGER check_row BEFORE INSERT OR UPDATE ON profile_data.profiles
	FOR EACH ROW EXECUTE FUNCTION profile_data.check_profile_row();

CREATE FUNCTION profile_data.audit_profile_change() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'profile_audit_trigger';
COMMENT ON FUNCTION profile_data.audit_profile_change() IS 'Trigger: records profile.created, profile.updated, profile.verified and profile.deleted for every write to profile_data.profiles';
REVOKE ALL ON FUNCTION profile_data.audit_profile_change() FROM PUBLIC;

CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON profile_data.profiles
	FOR EACH ROW EXECUTE FUNCTION profile_data.audit_profile_change();

CREATE FUNCTION profile_data.refuse_change() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'profile_refuse_change';
COMMENT ON FUNCTION profile_data.refuse_change() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE (append-only tables) and TRUNCATE of profiles (deletions must be audited)';
REVOKE ALL ON FUNCTION profile_data.refuse_change() FROM PUBLIC;

CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON profile_data.audit_events
	FOR EACH ROW EXECUTE FUNCTION profile_data.refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON profile_data.audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION profile_data.refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON profile_data.audit_seals
	FOR EACH ROW EXECUTE FUNCTION profile_data.refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON profile_data.audit_seals
	FOR EACH STATEMENT EXECUTE FUNCTION profile_data.refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON profile_data.audit_seal_heads
	FOR EACH ROW EXECUTE FUNCTION profile_data.refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON profile_data.audit_seal_heads
	FOR EACH STATEMENT EXECUTE FUNCTION profile_data.refuse_change();
CREATE TRIGGER audited_deletes BEFORE TRUNCATE ON profile_data.profiles
	FOR EACH STATEMENT EXECUTE FUNCTION profile_data.refuse_change();

CREATE FUNCTION profile_data.invalidate_caches() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'profile_invalidate_caches';
COMMENT ON FUNCTION profile_data.invalidate_caches() IS 'Trigger: tells every backend that its cached tenants, tokens and contracts are stale';
REVOKE ALL ON FUNCTION profile_data.invalidate_caches() FROM PUBLIC;

CREATE TRIGGER invalidate_caches AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON profile_data.tenants
	FOR EACH STATEMENT EXECUTE FUNCTION profile_data.invalidate_caches();
CREATE TRIGGER invalidate_caches AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON profile_data.clients
	FOR EACH STATEMENT EXECUTE FUNCTION profile_data.invalidate_caches();
CREATE TRIGGER invalidate_caches AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON profile_data.access_tokens
	FOR EACH STATEMENT EXECUTE FUNCTION profile_data.invalidate_caches();
CREATE TRIGGER invalidate_caches AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON profile_data.contracts
	FOR EACH STATEMENT EXECUTE FUNCTION profile_data.invalidate_caches();
CREATE TRIGGER invalidate_caches AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON profile_data.role_grants
	FOR EACH STATEMENT EXECUTE FUNCTION profile_data.invalidate_caches();

----------------------------------------------------------------------------
-- API
----------------------------------------------------------------------------

CREATE FUNCTION profile.create_profile(jsonb) RETURNS jsonb
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'create_profile';
COMMENT ON FUNCTION profile.create_profile(jsonb) IS $$Create a profile

Takes the whole request body: accessTokenId and tenantName, then the profile fields (username/login, password, email, mobile_phone_number/phone, country_code, full_name, language, enabled/status, roles/role, attributes, verificationUrl and the CMS fields). Checks principal, tenant, contract and every field rule, stores the profile and returns its document (never the password).$$;

CREATE FUNCTION profile.register_user_profile(user_profile_id uuid, payload jsonb) RETURNS jsonb
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'register_user_profile';
COMMENT ON FUNCTION profile.register_user_profile(uuid, jsonb) IS $$Register a user profile under a client-chosen id (identity SDK)

payload: countryCode (required), userProfileId (must equal user_profile_id), sdkAuditEvents (at most 1000), tpAuditMetadata {sessionId, transactionGroupId}, arid, sdkVersion, plus accessTokenId and tenantName.  Stores the profile, one audit event per SDK event and a user_profile.registered event in one transaction.  PROFILE_EXISTS if the id exists in any tenant.$$;

CREATE FUNCTION profile.update_profile(id uuid, payload jsonb) RETURNS jsonb
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'update_profile';
COMMENT ON FUNCTION profile.update_profile(uuid, jsonb) IS $$Change a profile, for example to complete an incomplete one

payload: the fields to change, with the names, aliases and rules of create_profile (null clears a field), plus accessTokenId and tenantName.  An incomplete profile becomes complete when the tenant's last missing complete_fields entry arrives.  PROFILE_NOT_FOUND for an id the caller's tenant does not hold.$$;

CREATE FUNCTION profile.verify_profile(token text) RETURNS jsonb
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'verify_profile';
COMMENT ON FUNCTION profile.verify_profile(text) IS $$Verify a profile with the token from its verification link

Sets verified and enabled, uses the token up and returns the profile.  VERIFICATION_INVALID for an unknown, used or expired token.$$;

----------------------------------------------------------------------------
-- Admin functions
----------------------------------------------------------------------------

CREATE FUNCTION profile.mark_verification_sent(outbox_id bigint) RETURNS void
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'mark_verification_sent';
COMMENT ON FUNCTION profile.mark_verification_sent(bigint) IS $$Mark a verification mail sent (for the mailer)

outbox_id comes from the NOTIFY profile_verification payload or from profile_data.verification_outbox.$$;

CREATE FUNCTION profile.resend_verification(outbox_id bigint) RETURNS jsonb
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'resend_verification';
COMMENT ON FUNCTION profile.resend_verification(bigint) IS $$Issue a new verification link for an outbox row (for the mailer)

The outbox keeps no token, so a mail whose notification was missed gets a new token (the old ones stop working): returns {outbox_id, profile_id, tenant, email, url}.$$;

CREATE FUNCTION profile.verify_audit_chain(tenant text) RETURNS jsonb
	LANGUAGE C STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'verify_audit_chain';
COMMENT ON FUNCTION profile.verify_audit_chain(text) IS $$Check a tenant's audit chains and seals

Returns {"ok": true, "events": N, "seals": M}, or {"ok": false, ...} with the first broken link: an event altered, removed or inserted behind the triggers' back.$$;

CREATE FUNCTION profile.seal_audit_chain(tenant text) RETURNS jsonb
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'seal_audit_chain';
COMMENT ON FUNCTION profile.seal_audit_chain(text) IS $$Seal a tenant's audit chains

Records the head of every chain that grew since the last seal, in a new seal chained to the one before.  Run it periodically (for example every minute from pg_cron): removing the newest events of a chain is detectable only once they are sealed.$$;

CREATE FUNCTION profile.create_tenant(name text, settings jsonb DEFAULT '{}') RETURNS jsonb
	LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'create_tenant';
COMMENT ON FUNCTION profile.create_tenant(text, jsonb) IS $$Create a tenant

name: 1 to 64 of a-z, 0-9, . _ -.  settings: any of enabled, required_contract, complete_fields, incomplete_profiles, wizard_url, verification, verification_ttl, default_roles, allowed_roles, rate_limit; unknown keys and wrong types are rejected.$$;

CREATE FUNCTION profile.alter_tenant(name text, settings jsonb) RETURNS jsonb
	LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'alter_tenant';
COMMENT ON FUNCTION profile.alter_tenant(text, jsonb) IS $$Change a tenant's settings

Merges the given keys into the tenant's settings; {"enabled": false} disables the tenant.$$;

CREATE FUNCTION profile.create_client(name text) RETURNS jsonb
	LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'create_client';
COMMENT ON FUNCTION profile.create_client(text) IS $$Create a client

A client is an application or partner that calls the API.  name: 1 to 64 of a-z, 0-9, . _ -.$$;

CREATE FUNCTION profile.issue_access_token(client text, tenants text[] DEFAULT NULL, expires_at timestamptz DEFAULT NULL) RETURNS text
	LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'issue_access_token';
COMMENT ON FUNCTION profile.issue_access_token(text, text[], timestamptz) IS $$Issue an access token to a client

Returns the secret (256 random bits), shown this once and stored only as a hash.  tenants limits the token to those tenants (NULL: any); expires_at ends it.$$;

CREATE FUNCTION profile.revoke_access_token(token text) RETURNS void
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'revoke_access_token';
COMMENT ON FUNCTION profile.revoke_access_token(text) IS $$Revoke an access token

Takes the secret; from then on the token is refused (UNAUTHENTICATED).$$;

CREATE FUNCTION profile.grant_contract(client text, contract text, valid_from timestamptz DEFAULT pg_catalog.now(), valid_until timestamptz DEFAULT NULL) RETURNS void
	LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'grant_contract';
COMMENT ON FUNCTION profile.grant_contract(text, text, timestamptz, timestamptz) IS $$Grant a contract to a client

Active when not ended and valid_from <= now() < valid_until (NULL: open end).$$;

CREATE FUNCTION profile.end_contract(client text, contract text) RETURNS void
	LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'end_contract';
COMMENT ON FUNCTION profile.end_contract(text, text) IS $$End a client's contract

Every open grant of that contract to the client ends now.$$;

CREATE FUNCTION profile.grant_api(role name) RETURNS void
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'grant_api';
COMMENT ON FUNCTION profile.grant_api(name) IS $$Let a role call the API functions

Grants USAGE on schema profile and EXECUTE on the API functions; nothing on profile_data.$$;

CREATE FUNCTION profile.grant_admin(role name) RETURNS void
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'grant_admin';
COMMENT ON FUNCTION profile.grant_admin(name) IS $$Make a role an admin

The role (and its members) call the API as the admin principal (any tenant, no contract, no rate limit) and may run the admin functions and read the admin views.$$;

CREATE FUNCTION profile.trust_claims(role name) RETURNS void
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'trust_claims';
COMMENT ON FUNCTION profile.trust_claims(name) IS $$Trust a role's JWT claims

When current_user is this role (or a member of it) and no access token is given, request.jwt.claims names the client ("sub") and may limit the tenant ("tenant").  For the role PostgREST switches to; claims are ignored for every other role.$$;

----------------------------------------------------------------------------
-- Admin views
----------------------------------------------------------------------------

CREATE VIEW profile.tenants AS
	SELECT id, name, enabled, settings, created_at, updated_at
	  FROM profile_data.tenants;
COMMENT ON VIEW profile.tenants IS 'Tenants with their settings (admin view)';

CREATE VIEW profile.clients AS
	SELECT id, name, created_at FROM profile_data.clients;
COMMENT ON VIEW profile.clients IS 'Clients (admin view)';

CREATE VIEW profile.access_tokens AS
	SELECT t.id, c.name AS client,
		   (SELECT pg_catalog.array_agg(n.name ORDER BY n.name) FROM profile_data.tenants n
			 WHERE n.id OPERATOR(pg_catalog.=) ANY (t.tenant_ids)) AS tenants,
		   t.expires_at, t.revoked_at IS NOT NULL AS revoked, t.revoked_at, t.created_at
	  FROM profile_data.access_tokens t
	  JOIN profile_data.clients c ON c.id OPERATOR(pg_catalog.=) t.client_id;
COMMENT ON VIEW profile.access_tokens IS 'Access tokens: client, tenants (NULL: any), expiry, revocation; never the secret or its hash (admin view)';

CREATE VIEW profile.contracts AS
	SELECT k.id, c.name AS client, k.name AS contract, k.valid_from, k.valid_until, k.ended_at,
		   (k.ended_at IS NULL AND k.valid_from OPERATOR(pg_catalog.<=) pg_catalog.now()
			AND (k.valid_until IS NULL OR pg_catalog.now() OPERATOR(pg_catalog.<) k.valid_until)) AS active,
		   k.created_at
	  FROM profile_data.contracts k
	  JOIN profile_data.clients c ON c.id OPERATOR(pg_catalog.=) k.client_id;
COMMENT ON VIEW profile.contracts IS 'Contracts of clients, with whether each is active now (admin view)';

CREATE VIEW profile.profiles AS
	SELECT p.id, t.name AS tenant, p.state, p.username, p.email, p.mobile_phone_number,
		   p.country_code, p.full_name, p.language, p.enabled, p.verified, p.roles, p.attributes,
		   p.password_hash IS NOT NULL AS has_password,
		   p.verification_url, p.access_level, p.membership_id, p.pending_membership_id,
		   p.role_ids, p.mail_chimp_lists, p.mail_chimp_interests, p.mail_chimp_segments,
		   p.stored_selectors, p.social_login_provider, p.social_login_id, p.concierge_user_id,
		   p.stripe_customer_id, p.ga_client_id, p.status_comment, p.referer,
		   p.force_change_password, p.created_at, p.updated_at, p.first_login_at, p.last_login_at
	  FROM profile_data.profiles p
	  JOIN profile_data.tenants t ON t.id OPERATOR(pg_catalog.=) p.tenant_id;
COMMENT ON VIEW profile.profiles IS 'Profiles of every tenant; never the password hash (admin view)';

CREATE VIEW profile.audit_events AS
	SELECT e.id, e.recorded_at, e.occurred_at, t.name AS tenant, e.profile_id,
		   e.client, e.source, e.event, e.session_id, e.transaction_group_id,
		   e.trace_id, e.data
	  FROM profile_data.audit_events e
	  JOIN profile_data.tenants t ON t.id OPERATOR(pg_catalog.=) e.tenant_id;
COMMENT ON VIEW profile.audit_events IS 'Audit events of every tenant (admin view)';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA profile FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA profile_data FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA profile FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA profile_data FROM PUBLIC;
