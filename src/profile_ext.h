/*-------------------------------------------------------------------------
 *
 * src/profile_ext.h
 *		Declarations shared by the PostgreSQL glue of profile_ext.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_EXT_H
#define PROFILE_EXT_H

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "compat.h"
#include "core/pe_core.h"

/* GUCs (profile_ext.c, ratelimit.c) */
extern int	profile_password_opslimit;
extern int	profile_password_memlimit_kb;
extern int	profile_rate_limit_entries;

/* One field error of a VALIDATION_FAILED detail. */
typedef struct FieldError
{
	const char *field;
	const char *rule;
	const char *message;
} FieldError;

/* At most this many field errors are reported; a last item says so. */
#define PROFILE_MAX_FIELD_ERRORS 64

typedef struct FieldErrors
{
	int			count;
	bool		truncated;
	FieldError	items[PROFILE_MAX_FIELD_ERRORS];
} FieldErrors;

/* errors.c */
extern void profile_add_error(FieldErrors *errs, const char *field,
							  const char *rule, const char *message);
extern void profile_add_rule(FieldErrors *errs, const char *field,
							 const PeRule *rule);
extern void profile_raise(PeErrorCode code, const pg_uuid_t *trace_id,
						  const FieldErrors *errs, const char *field,
						  const char *fmt,...)
			pg_attribute_printf(5, 6) pg_attribute_noreturn();
extern void profile_raise_rate_limited(const pg_uuid_t *trace_id, int retry_after,
									   const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();
extern void profile_raise_validation(const pg_uuid_t *trace_id,
									 const FieldErrors *errs)
			pg_attribute_noreturn();
extern char *profile_uuid_text(const pg_uuid_t *uuid);
extern void profile_rethrow_hiding_statement(MemoryContext cxt)
			pg_attribute_noreturn();
extern void profile_rethrow_unique_as_exists(MemoryContext cxt)
			pg_attribute_noreturn();

/* crypto.c */
extern void profile_uuid_v4(pg_uuid_t *out);
extern void profile_uuid_v7(pg_uuid_t *out);
extern bytea *profile_token_hash(const char *token, size_t len);
extern bytea *profile_bytea(const void *data, size_t len);
extern char *profile_hash_password(const char *password, size_t len);
extern char *profile_new_token(const char *prefix);

/* cache.c: who is calling, which tenant, which contract */
typedef struct TenantInfo
{
	int64		id;
	char	   *name;
	bool		enabled;
	char	   *required_contract;	/* NULL: none */
	int			n_complete;
	int16		complete_fields[PE_F__COUNT];
	bool		incomplete_profiles;
	char	   *wizard_url;		/* NULL: none */
	bool		verification;
	char	   *verification_ttl;
	char	   *verification_url;	/* NULL: none */
	int			n_default_roles;
	char	  **default_roles;
	int			n_allowed_roles;	/* -1: any role allowed */
	char	  **allowed_roles;
	int32		per_second;
	int32		per_minute;
} TenantInfo;

typedef struct TokenInfo
{
	int64		token_id;
	int64		client_id;
	char	   *client_name;
	int			n_tenants;		/* -1: any tenant */
	char	  **tenants;
	TimestampTz expires_at;		/* DT_NOEND: never */
	bool		revoked;
} TokenInfo;

/*
 * A stretch of code that acts as the owner of profile_data (cache.c): SPI
 * connected, the owner's user id under SECURITY_RESTRICTED_OPERATION, and
 * search_path = pg_catalog, pg_temp.
 */
typedef struct OwnerSection
{
	Oid			save_userid;
	int			save_sec_context;
	int			guc_nestlevel;	/* 0: search_path was safe already */
} OwnerSection;

extern void profile_owner_begin(OwnerSection *s);
extern void profile_owner_end(OwnerSection *s);

typedef enum PrincipalKind
{
	PRINCIPAL_CLIENT,			/* by access token */
	PRINCIPAL_CLAIMS,			/* by trusted JWT claims */
	PRINCIPAL_ADMIN
} PrincipalKind;

/* Everything an API call has established about itself. */
typedef struct ApiCall
{
	pg_uuid_t	trace_id;
	TimestampTz now;
	PrincipalKind kind;
	const TokenInfo *token;		/* PRINCIPAL_CLIENT */
	int64		client_id;		/* PRINCIPAL_CLIENT and PRINCIPAL_CLAIMS */
	const char *client;			/* client name, or role name for admins */
	const char *claims_tenant;	/* PRINCIPAL_CLAIMS: the "tenant" claim */
	const TenantInfo *tenant;
	Oid			caller;			/* current_user at entry */
	OwnerSection owner;
	int			http_status;	/* for PostgREST, set at the end; 0: none */
} ApiCall;

extern void profile_cache_begin(void);
extern const TokenInfo *profile_lookup_token(const char *token, size_t len);
extern const TenantInfo *profile_lookup_tenant(const char *name, size_t len);
extern bool profile_contract_active(int64 client_id, const char *contract,
									TimestampTz now);
extern bool profile_is_admin_role(Oid roleid);
extern bool profile_trusts_claims(Oid roleid);
extern int64 profile_lookup_client(const char *name, size_t len);
extern Oid	profile_data_owner(void);
extern Oid	profile_tenants_relid(void);
extern void profile_cache_init(void);
extern Jsonb *profile_settings_jsonb(const TenantInfo *t);
extern bool profile_parse_settings(Jsonb *settings, TenantInfo *out,
								   FieldErrors *errs, const char *prefix);

/* api.c: the steps every API call shares */
typedef Jsonb *(*ApiBody) (FunctionCallInfo fcinfo);
extern Jsonb *profile_api_call(FunctionCallInfo fcinfo, ApiBody body);
extern void profile_call_begin(ApiCall *ctx, const char *writer);
extern void profile_call_end(ApiCall *ctx);
extern void profile_check_request(ApiCall *ctx, Jsonb *payload);
extern int	profile_jsonb_depth(JsonbContainer *c, int limit);
extern bool profile_in_postgrest(void);

/* ratelimit.c */
extern void profile_rate_limit_init(void);
extern void profile_require_preload(void);
extern void profile_rate_limit(const ApiCall *ctx);
extern void profile_set_http_status(int status);

/* audit.c and chain.c: the hash-chained audit trail */
#define PROFILE_HASH_LEN 32

typedef struct AuditEvent
{
	int64		tenant_id;
	pg_uuid_t	profile_id;
	int32		chain_seq;		/* set by profile_audit_append */
	TimestampTz recorded_at;
	TimestampTz occurred_at;
	const char *client;			/* may be NULL */
	const char *source;			/* "db" or "sdk" */
	const char *event;
	const pg_uuid_t *session_id;	/* may be NULL */
	const pg_uuid_t *transaction_group_id;	/* may be NULL */
	const pg_uuid_t *trace_id;	/* may be NULL */
	Jsonb	   *data;
} AuditEvent;

extern void profile_audit_set_context(const ApiCall *ctx, int64 tenant_id,
									  const pg_uuid_t *profile_id, bool fresh);
extern void profile_audit_clear_context(void);
extern bool profile_audit_context_matches(int64 tenant_id,
										  const pg_uuid_t *profile_id);
extern void profile_audit_append(AuditEvent *ev);
extern void profile_audit_append_batch(AuditEvent *evs, int n);
extern void profile_event_hash(const uint8 *prev, const AuditEvent *ev,
							   uint8 *out);

/* json helpers (result.c) */
extern void profile_push_key(JsonbParseState **st, const char *key);
extern void profile_push_text(JsonbParseState **st, const char *key,
							  const char *val);
extern void profile_push_bool(JsonbParseState **st, const char *key, bool val);
extern void profile_push_null(JsonbParseState **st, const char *key);
extern void profile_push_int(JsonbParseState **st, const char *key, int64 val);
extern void profile_push_timestamp(JsonbParseState **st, const char *key,
								   TimestampTz ts);
extern void profile_push_uuid(JsonbParseState **st, const char *key,
							  const pg_uuid_t *uuid);
extern void profile_push_jsonb(JsonbParseState **st, const char *key,
							   Jsonb *val);
extern void profile_push_datum(JsonbParseState **st, const char *key,
							   Datum value, Oid typid);

/* A profile as its columns: the input of the result document. */
typedef struct ProfileRow
{
	int64		tenant_id;
	const char *tenant_name;
	pg_uuid_t	id;
	bool		incomplete;
	const char *message;
	const char *wizard_url;		/* NULL unless incomplete */
	Datum		values[PE_F__COUNT];	/* indexed by PeField, column types */
	bool		isnull[PE_F__COUNT];
	bool		verified;
	TimestampTz created_at;
	TimestampTz updated_at;
	TimestampTz first_login_at; /* DT_NOBEGIN: null */
	TimestampTz last_login_at;	/* DT_NOBEGIN: null */
} ProfileRow;

extern Jsonb *profile_result(const ProfileRow *row, const ApiCall *ctx);

/* fields.c: reading and checking the profile fields of a payload */
typedef struct ProfileInput
{
	bool		present[PE_F__COUNT];	/* given and not JSON null */
	bool		cleared[PE_F__COUNT];	/* given as JSON null (update: clears) */
	const char *key[PE_F__COUNT];	/* the key as the request spelled it */
	JsonbValue	raw[PE_F__COUNT];
	bool		alias_conflict;
	FieldErrors errs;			/* unknown keys, alias conflicts */
} ProfileInput;

extern Oid	profile_field_type(int f);
extern const char *profile_field_column(int f);
extern void profile_read_payload(Jsonb *payload, ProfileInput *in);
extern void profile_check_fields(ProfileInput *in, const TenantInfo *tenant,
								 ProfileRow *row, FieldErrors *errs, bool create);
extern void profile_row_from_tuple(HeapTuple tup, TupleDesc desc, ProfileRow *row);
extern Datum profile_default_roles(const TenantInfo *tenant);
extern const PeRule *profile_check_string(int f, const char *s, size_t len,
										  Datum *out, const char **phone_country);
extern const PeRule *profile_check_attributes(Jsonb *attrs);
extern bool profile_role_allowed(const TenantInfo *t, const char *role, size_t len);
extern int	profile_dedupe_texts(const char **s, int *len, int n);
extern void profile_check_complete(const ProfileInput *in,
								   const TenantInfo *tenant,
								   FieldErrors *errs, bool *incomplete);
extern void profile_resolve_caller(ApiCall *ctx, const ProfileInput *in,
								   bool writes);
extern void profile_call_open(ApiCall *ctx, const char *writer, Jsonb *payload,
							  ProfileInput *in);
extern Jsonb *profile_payload_arg(FunctionCallInfo fcinfo, int argno);

/* create.c */
extern bool profile_insert_row(ApiCall *ctx, const ProfileRow *row, bool fresh);
extern char *profile_wizard_url(const char *template, const pg_uuid_t *id);
extern void profile_hash_row_password(ProfileRow *row);
extern const char *profile_taken_field(int64 tenant_id, const Datum *values,
									   const bool *isnull, const pg_uuid_t *exclude);

/* verify.c */
extern void profile_issue_verification(const ApiCall *ctx, const ProfileRow *row,
									   const char *verification_url);
extern const char *profile_verification_base(const TenantInfo *tenant,
											 const ProfileInput *in);
extern void profile_end_verifications(const ApiCall *ctx,
									  const pg_uuid_t *profile_id);

/* SPI helpers (cache.c) */
typedef struct SavedPlan
{
	const char *sql;
	int			nargs;
	Oid			argtypes[40];
	SPIPlanPtr	plan;
} SavedPlan;

extern SPIPlanPtr profile_plan(SavedPlan *p);
extern Datum profile_spi_value(uint64 row, int col, bool *isnull);
extern Datum profile_spi_required(uint64 row, int col, const char *table);
extern char *profile_spi_text(uint64 row, int col, const char *table);
extern const uint8 *profile_spi_hash(uint64 row, int col, const char *table);
extern const TenantInfo *profile_tenant_by_id(int64 tenant_id);
extern int	profile_exec(SavedPlan *p, Datum *values, const char *nulls,
						 bool read_only, long count);

#endif							/* PROFILE_EXT_H */
