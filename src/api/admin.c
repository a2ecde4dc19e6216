/*-------------------------------------------------------------------------
 *
 * src/api/admin.c
 *		Admin functions (README, "Admin functions"): tenants, clients,
 *		access tokens, contracts and role grants.
 *
 * These are SECURITY DEFINER with a pinned search_path; EXECUTE is
 * revoked from PUBLIC and given to admin roles by profile.grant_admin.
 * They act as the data owner like the API (base/spi.c) and run only saved
 * statements.  They are not on a hot path, so they favour plain code over
 * caching.  The GRANTs of grant_api and grant_admin are built as statement
 * nodes for a role looked up in pg_authid first, never as SQL text.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "base/crypto.h"
#include "base/errors.h"
#include "base/json.h"
#include "catalog/cache.h"
#include "catalog/settings.h"
#include "core/pe_validate.h"
#include "store/idempotency.h"
#include "store/profiles.h"

static SavedPlan insert_tenant_plan = {
	"INSERT INTO profile_data.tenants (name, settings) VALUES ($1, $2)"
	" ON CONFLICT (name) DO NOTHING RETURNING id, created_at",
	2, {TEXTOID, JSONBOID}
};

static SavedPlan lock_tenant_plan = {
	"SELECT id, settings, created_at FROM profile_data.tenants"
	" WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
	1, {TEXTOID}
};

static SavedPlan update_tenant_plan = {
	"UPDATE profile_data.tenants SET settings = $2, updated_at = $3"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	3, {INT8OID, JSONBOID, TIMESTAMPTZOID}
};

static SavedPlan insert_client_plan = {
	"INSERT INTO profile_data.clients (name) VALUES ($1)"
	" ON CONFLICT (name) DO NOTHING RETURNING id, created_at",
	1, {TEXTOID}
};

static SavedPlan client_id_plan = {
	"SELECT id FROM profile_data.clients WHERE name OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

static SavedPlan unknown_tenant_plan = {
	"SELECT n FROM pg_catalog.unnest($1) n WHERE NOT EXISTS"
	" (SELECT FROM profile_data.tenants t WHERE t.name OPERATOR(pg_catalog.=) n)"
	" LIMIT 1",
	1, {TEXTARRAYOID}
};

static SavedPlan tenant_ids_plan = {
	"SELECT pg_catalog.array_agg(id ORDER BY id) FROM profile_data.tenants"
	" WHERE name OPERATOR(pg_catalog.=) ANY ($1)",
	1, {TEXTARRAYOID}
};

static SavedPlan insert_token_plan = {
	"INSERT INTO profile_data.access_tokens (client_id, token_hash, tenant_ids, expires_at)"
	" VALUES ($1, $2, $3, $4)",
	4, {INT8OID, BYTEAOID, INT8ARRAYOID, TIMESTAMPTZOID}
};

static SavedPlan revoke_token_plan = {
	"UPDATE profile_data.access_tokens SET revoked_at = COALESCE(revoked_at, $2)"
	" WHERE token_hash OPERATOR(pg_catalog.=) $1",
	2, {BYTEAOID, TIMESTAMPTZOID}
};

static SavedPlan insert_contract_plan = {
	"INSERT INTO profile_data.contracts (client_id, name, valid_from, valid_until)"
	" VALUES ($1, $2, $3, $4)",
	4, {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static SavedPlan find_contract_plan = {
	"SELECT FROM profile_data.contracts"
	" WHERE client_id OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2 LIMIT 1",
	2, {INT8OID, TEXTOID}
};

static SavedPlan end_contract_plan = {
	"UPDATE profile_data.contracts SET ended_at = $3"
	" WHERE client_id OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2"
	" AND ended_at IS NULL",
	3, {INT8OID, TEXTOID, TIMESTAMPTZOID}
};

static SavedPlan mark_role_plan = {
	"INSERT INTO profile_data.role_grants (role, privilege)"
	" VALUES ($1::pg_catalog.regrole, $2) ON CONFLICT DO NOTHING",
	2, {OIDOID, TEXTOID}
};

/* A required text argument, or a VALIDATION_FAILED naming it. */
static char *
required_text(FunctionCallInfo fcinfo, int arg, const char *name,
			  const pg_uuid_t *trace_id, const PeRule *(*check) (const char *, size_t))
{
	FieldErrors errs = {0};
	char	   *s;
	const PeRule *r;

	if (PG_ARGISNULL(arg))
	{
		profile_add_error(&errs, name, "required", "is required");
		profile_raise_validation(trace_id, &errs);
	}
	s = text_to_cstring(PG_GETARG_TEXT_PP(arg));
	if (check && (r = check(s, strlen(s))) != NULL)
	{
		profile_add_rule(&errs, name, r);
		profile_raise_validation(trace_id, &errs);
	}
	return s;
}

/*
 * Is s an interval of more than nothing and at most 100 years (so that
 * now() plus it is a timestamp)?  Parsed inside a subtransaction, so a
 * syntax error becomes a field error instead of aborting the call.
 */
static bool
positive_interval(const char *s)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		Datum		iv = DirectFunctionCall3(interval_in, CStringGetDatum(s),
											 ObjectIdGetDatum(InvalidOid),
											 Int32GetDatum(-1));
		Datum		zero = DirectFunctionCall3(interval_in, CStringGetDatum("0"),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1));

		Datum		most = DirectFunctionCall3(interval_in, CStringGetDatum("100 years"),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1));

		ok = DatumGetBool(DirectFunctionCall2(interval_gt, iv, zero)) &&
			DatumGetBool(DirectFunctionCall2(interval_le, iv, most));
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		/* a bad interval is a field error; a cancel or out of memory is not */
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return ok;
}

/*
 * Check settings and return their stored form (and, in t, their parsed
 * form), or raise VALIDATION_FAILED.
 */
static Jsonb *
checked_settings(Jsonb *settings, const pg_uuid_t *trace_id, TenantInfo *out)
{
	FieldErrors errs = {0};
	TenantInfo	t;

	if (profile_parse_settings(settings, &t, &errs, "settings"))
	{
		if (!positive_interval(t.verification_ttl))
			profile_add_error(&errs, "settings.verification_ttl", "format",
							  "must be a positive interval of at most 100 years, such as \"24 hours\"");
		if (!positive_interval(t.idempotency_ttl))
			profile_add_error(&errs, "settings.idempotency_ttl", "format",
							  "must be a positive interval of at most 100 years, such as \"24 hours\"");
	}
	if (errs.count > 0)
		profile_raise_validation(trace_id, &errs);
	if (out)
		*out = t;
	return profile_settings_jsonb(&t);
}

/* Whether stored settings ask for confusable usernames. */
static bool
settings_confusable(Jsonb *settings)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = "username_uniqueness";
	k.val.string.len = strlen(k.val.string.val);
	v = findJsonbValueFromContainer(&settings->root, JB_FOBJECT, &k);
	return v && v->type == jbvString && v->val.string.len == 10 &&
		memcmp(v->val.string.val, "confusable", 10) == 0;
}

/*
 * A tenant's switch to confusable usernames is refused while usernames of
 * its profiles have equal skeletons: each group is one error, naming the
 * profiles (oldest first), for the admin to resolve.
 */
static void
refuse_skeleton_collisions(int64 tenant_id, const pg_uuid_t *trace_id)
{
	char	   *groups[PROFILE_MAX_FIELD_ERRORS];
	int			n = profile_skeleton_groups(tenant_id, groups,
											PROFILE_MAX_FIELD_ERRORS);
	FieldErrors errs = {0};

	for (int i = 0; i < n; i++)
		profile_add_error(&errs, "settings.username_uniqueness", "collision",
						  psprintf("the usernames of profiles %s look alike", groups[i]));
	if (n > 0)
		profile_raise_validation(trace_id, &errs);
}

static Jsonb *
tenant_document(int64 id, const char *name, Jsonb *settings,
				TimestampTz created_at, TimestampTz updated_at)
{
	JsonbParseState *st = NULL;
	JsonbValue *res;
	JsonbValue	k;
	bool		enabled = true;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = "enabled";
	k.val.string.len = 7;
	v = findJsonbValueFromContainer(&settings->root, JB_FOBJECT, &k);
	if (v && v->type == jbvBool)
		enabled = v->val.boolean;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_int(&st, "id", id);
	profile_push_text(&st, "name", name);
	profile_push_bool(&st, "enabled", enabled);
	profile_push_jsonb(&st, "settings", settings);
	profile_push_timestamp(&st, "created_at", created_at);
	profile_push_timestamp(&st, "updated_at", updated_at);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

PG_FUNCTION_INFO_V1(create_tenant);

/* profile.create_tenant(name text, settings jsonb) RETURNS jsonb */
Datum
create_tenant(PG_FUNCTION_ARGS)
{
	pg_uuid_t	trace_id;
	char	   *name;
	Jsonb	   *settings;
	Datum		values[2];
	Jsonb	   *result;
	TimestampTz created;
	OwnerSection owner;

	profile_uuid_v4(&trace_id);
	name = required_text(fcinfo, 0, "name", &trace_id, pe_check_name);
	settings = checked_settings(PG_ARGISNULL(1) ? profile_empty_object() :
								PG_GETARG_JSONB_P(1), &trace_id, NULL);

	profile_begin_as_owner(&owner);
	values[0] = CStringGetTextDatum(name);
	values[1] = JsonbPGetDatum(settings);
	profile_exec(&insert_tenant_plan, values, NULL, false, 0);
	if (SPI_processed == 0)
		profile_raise(PE_E_TENANT_EXISTS, &trace_id, NULL, NULL,
					  "tenant \"%s\" already exists", name);
	created = DatumGetTimestampTz(profile_spi_required(0, 2, "tenants"));
	result = tenant_document(DatumGetInt64(profile_spi_required(0, 1, "tenants")), name,
							 settings, created, created);
	profile_owner_end(&owner);
	PG_RETURN_JSONB_P(result);
}

PG_FUNCTION_INFO_V1(alter_tenant);

/* profile.alter_tenant(name text, settings jsonb) RETURNS jsonb */
Datum
alter_tenant(PG_FUNCTION_ARGS)
{
	pg_uuid_t	trace_id;
	char	   *name;
	Datum		values[3];
	Jsonb	   *merged;
	Jsonb	   *settings;
	Jsonb	   *result;
	int64		id;
	TimestampTz created;
	OwnerSection owner;
	TenantInfo	parsed;
	bool		was_confusable;

	profile_uuid_v4(&trace_id);
	name = required_text(fcinfo, 0, "name", &trace_id, NULL);
	if (PG_ARGISNULL(1))
	{
		FieldErrors errs = {0};

		profile_add_error(&errs, "settings", "required", "is required");
		profile_raise_validation(&trace_id, &errs);
	}

	profile_begin_as_owner(&owner);
	values[0] = CStringGetTextDatum(name);
	profile_exec(&lock_tenant_plan, values, NULL, false, 1);
	if (SPI_processed == 0)
		profile_raise(PE_E_TENANT_NOT_FOUND, &trace_id, NULL, NULL,
					  "tenant \"%s\" does not exist", name);
	id = DatumGetInt64(profile_spi_required(0, 1, "tenants"));
	created = DatumGetTimestampTz(profile_spi_required(0, 3, "tenants"));
	merged = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat,
												profile_spi_required(0, 2, "tenants"),
												PG_GETARG_DATUM(1)));
	was_confusable = settings_confusable(DatumGetJsonbP(profile_spi_required(0, 2, "tenants")));
	if (!JB_ROOT_IS_OBJECT(PG_GETARG_JSONB_P(1)))
		merged = PG_GETARG_JSONB_P(1);	/* let the check report the type */
	settings = checked_settings(merged, &trace_id, &parsed);

	/*
	 * A change of username_uniqueness rekeys the tenant's usernames.  The
	 * lock waits for every transaction writing profiles and keeps new ones
	 * out until this one ends; they take their lock before they read the
	 * tenant (model/caller.c), so none stores a key by the old setting.
	 */
	if (parsed.confusable != was_confusable)
	{
		LockRelationOid(profile_profiles_relid(), ShareRowExclusiveLock);
		if (parsed.confusable)
			refuse_skeleton_collisions(id, &trace_id);
	}

	values[0] = Int64GetDatum(id);
	values[1] = JsonbPGetDatum(settings);
	values[2] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	profile_exec(&update_tenant_plan, values, NULL, false, 0);
	if (parsed.confusable != was_confusable)
		profile_rekey_usernames(id);
	result = tenant_document(id, name, settings, created,
							 GetCurrentTransactionStartTimestamp());
	profile_owner_end(&owner);
	PG_RETURN_JSONB_P(result);
}

PG_FUNCTION_INFO_V1(create_client);

/* profile.create_client(name text) RETURNS jsonb */
Datum
create_client(PG_FUNCTION_ARGS)
{
	pg_uuid_t	trace_id;
	char	   *name;
	Datum		values[1];
	JsonbParseState *st = NULL;
	JsonbValue *res;
	OwnerSection owner;

	profile_uuid_v4(&trace_id);
	name = required_text(fcinfo, 0, "name", &trace_id, pe_check_name);
	profile_begin_as_owner(&owner);
	values[0] = CStringGetTextDatum(name);
	profile_exec(&insert_client_plan, values, NULL, false, 0);
	if (SPI_processed == 0)
		profile_raise(PE_E_CLIENT_EXISTS, &trace_id, NULL, NULL,
					  "client \"%s\" already exists", name);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_int(&st, "id", DatumGetInt64(profile_spi_required(0, 1, "clients")));
	profile_push_text(&st, "name", name);
	profile_push_timestamp(&st, "created_at",
						   DatumGetTimestampTz(profile_spi_required(0, 2, "clients")));
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	profile_owner_end(&owner);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}

/* The id of a client, or CLIENT_NOT_FOUND.  SPI must be connected. */
static int64
client_id(const char *name, const pg_uuid_t *trace_id)
{
	Datum		value = CStringGetTextDatum(name);

	profile_exec(&client_id_plan, &value, NULL, false, 1);
	if (SPI_processed == 0)
		profile_raise(PE_E_CLIENT_NOT_FOUND, trace_id, NULL, NULL,
					  "client \"%s\" does not exist", name);
	return DatumGetInt64(profile_spi_required(0, 1, "clients"));
}

PG_FUNCTION_INFO_V1(issue_access_token);

/*
 * profile.issue_access_token(client text, tenants text[], expires_at
 * timestamptz) RETURNS text: the secret, shown this once.
 */
Datum
issue_access_token(PG_FUNCTION_ARGS)
{
	pg_uuid_t	trace_id;
	char	   *client;
	char	   *token;
	Datum		values[4];
	char		nulls[4] = {' ', ' ', 'n', ' '};
	FieldErrors errs = {0};
	OwnerSection owner;

	profile_uuid_v4(&trace_id);
	client = required_text(fcinfo, 0, "client", &trace_id, NULL);
	if (!PG_ARGISNULL(1) && ArrayGetNItems(ARR_NDIM(PG_GETARG_ARRAYTYPE_P(1)),
										   ARR_DIMS(PG_GETARG_ARRAYTYPE_P(1))) == 0)
		profile_add_error(&errs, "tenants", "required",
						  "must name at least one tenant, or be null for any tenant");
	if (!PG_ARGISNULL(1) && array_contains_nulls(PG_GETARG_ARRAYTYPE_P(1)))
		profile_add_error(&errs, "tenants", "format", "must not contain nulls");
	if (!PG_ARGISNULL(2) &&
		PG_GETARG_TIMESTAMPTZ(2) <= GetCurrentTransactionStartTimestamp())
		profile_add_error(&errs, "expires_at", "range", "must be in the future");
	if (errs.count > 0)
		profile_raise_validation(&trace_id, &errs);

	profile_begin_as_owner(&owner);
	values[0] = Int64GetDatum(client_id(client, &trace_id));
	if (!PG_ARGISNULL(1))
	{
		Datum		names = PG_GETARG_DATUM(1);

		profile_exec(&unknown_tenant_plan, &names, NULL, false, 1);
		if (SPI_processed > 0)
			profile_raise(PE_E_TENANT_NOT_FOUND, &trace_id, NULL, NULL,
						  "tenant \"%s\" does not exist",
						  profile_spi_text(0, 1, "tenants"));
		profile_exec(&tenant_ids_plan, &names, NULL, false, 1);
		values[2] = SPI_datumTransfer(profile_spi_required(0, 1, "tenants"), false, -1);
		nulls[2] = ' ';
	}
	values[3] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[3] = PG_ARGISNULL(2) ? 'n' : ' ';

	token = profile_new_token("pe_");
	values[1] = PointerGetDatum(profile_token_hash(token, strlen(token)));
	profile_exec(&insert_token_plan, values, nulls, false, 0);
	profile_owner_end(&owner);
	PG_RETURN_TEXT_P(cstring_to_text(token));
}

/* Revoke the token whose secret is given. */
static void
revoke_token(text *token)
{
	pg_uuid_t	trace_id;
	Datum		values[2];
	OwnerSection owner;

	values[0] = PointerGetDatum(profile_token_hash(VARDATA_ANY(token),
												   VARSIZE_ANY_EXHDR(token)));
	values[1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	profile_begin_as_owner(&owner);
	profile_exec(&revoke_token_plan, values, NULL, false, 0);
	if (SPI_processed == 0)
	{
		profile_uuid_v4(&trace_id);
		profile_raise(PE_E_TOKEN_NOT_FOUND, &trace_id, NULL, NULL,
					  "access token does not exist");
	}
	profile_owner_end(&owner);
}

PG_FUNCTION_INFO_V1(revoke_access_token);

/*
 * profile.revoke_access_token(token text) RETURNS void.  The statement
 * carries the secret: no error may log it.
 */
Datum
revoke_access_token(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		revoke_token(PG_GETARG_TEXT_PP(0));
	}
	PG_CATCH();
	{
		profile_rethrow_hiding_statement(cxt);
	}
	PG_END_TRY();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(grant_contract);

/*
 * profile.grant_contract(client text, contract text, valid_from
 * timestamptz, valid_until timestamptz) RETURNS void
 */
Datum
grant_contract(PG_FUNCTION_ARGS)
{
	pg_uuid_t	trace_id;
	char	   *client;
	char	   *contract;
	FieldErrors errs = {0};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	OwnerSection owner;

	profile_uuid_v4(&trace_id);
	client = required_text(fcinfo, 0, "client", &trace_id, NULL);
	contract = required_text(fcinfo, 1, "contract", &trace_id, pe_check_name);
	if (PG_ARGISNULL(2))
		profile_add_error(&errs, "valid_from", "required", "is required");
	else if (!PG_ARGISNULL(3) && PG_GETARG_TIMESTAMPTZ(3) <= PG_GETARG_TIMESTAMPTZ(2))
		profile_add_error(&errs, "valid_until", "range", "must be later than valid_from");
	if (errs.count > 0)
		profile_raise_validation(&trace_id, &errs);

	profile_begin_as_owner(&owner);
	values[0] = Int64GetDatum(client_id(client, &trace_id));
	values[1] = CStringGetTextDatum(contract);
	values[2] = PG_GETARG_DATUM(2);
	values[3] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	nulls[3] = PG_ARGISNULL(3) ? 'n' : ' ';
	profile_exec(&insert_contract_plan, values, nulls, false, 0);
	profile_owner_end(&owner);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(end_contract);

/* profile.end_contract(client text, contract text) RETURNS void */
Datum
end_contract(PG_FUNCTION_ARGS)
{
	pg_uuid_t	trace_id;
	char	   *client;
	char	   *contract;
	Datum		values[3];
	OwnerSection owner;

	profile_uuid_v4(&trace_id);
	client = required_text(fcinfo, 0, "client", &trace_id, NULL);
	contract = required_text(fcinfo, 1, "contract", &trace_id, NULL);

	profile_begin_as_owner(&owner);
	values[0] = Int64GetDatum(client_id(client, &trace_id));
	values[1] = CStringGetTextDatum(contract);
	values[2] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	profile_exec(&find_contract_plan, values, NULL, false, 1);
	if (SPI_processed == 0)
		profile_raise(PE_E_CONTRACT_NOT_FOUND, &trace_id, NULL, NULL,
					  "client \"%s\" has no contract \"%s\"", client, contract);
	profile_exec(&end_contract_plan, values, NULL, false, 0);
	profile_owner_end(&owner);
	PG_RETURN_VOID();
}

/* The functions an API role may execute (profile.grant_api). */
static const struct
{
	const char *name;
	const char *args[3];
}			api_functions[] = {
	{"create_profile", {"jsonb"}},
	{"create_profiles", {"jsonb"}},
	{"register_user_profile", {"uuid", "jsonb"}},
	{"update_profile", {"uuid", "jsonb"}},
	{"verify_profile", {"text"}},
	{"get_profile", {"uuid", "jsonb"}},
	{"find_profile", {"jsonb"}},
	{"delete_profile", {"uuid", "jsonb"}},
	{"erase_profile", {"uuid", "jsonb"}},
};

/*
 * GRANT privilege ON objects TO role, as a statement node (no SQL text).
 * targtype ACL_TARGET_ALL_IN_SCHEMA: objects name schemas.
 */
static void
grant(ObjectType objtype, GrantTargetType targtype, List *objects,
	  const char *privilege, const char *role)
{
	GrantStmt  *stmt = makeNode(GrantStmt);
	AccessPriv *priv = makeNode(AccessPriv);
	RoleSpec   *grantee = makeNode(RoleSpec);

	priv->priv_name = pstrdup(privilege);
	grantee->roletype = ROLESPEC_CSTRING;
	grantee->rolename = pstrdup(role);
	grantee->location = -1;
	stmt->is_grant = true;
	stmt->targtype = targtype;
	stmt->objtype = objtype;
	stmt->objects = objects;
	stmt->privileges = list_make1(priv);
	stmt->grantees = list_make1(grantee);
	stmt->grant_option = false;
	stmt->behavior = DROP_RESTRICT;
	ExecuteGrantStmt(stmt);
}

/*
 * Record a role's privilege in profile_data.role_grants and grant what
 * goes with it: admin, EXECUTE on every function of schema profile and
 * SELECT on its views; api, EXECUTE on the API functions; both USAGE on
 * the schema.  claims is a mark only.
 */
static void
grant_role(FunctionCallInfo fcinfo, const char *privilege)
{
	pg_uuid_t	trace_id;
	char	   *role;
	Oid			roleid;
	Datum		values[2];
	OwnerSection owner;
	List	   *profile_schema = list_make1(makeString("profile"));

	profile_uuid_v4(&trace_id);
	/* the functions are STRICT */
	role = pstrdup(NameStr(*PG_GETARG_NAME(0)));
	roleid = get_role_oid(role, true);
	if (!OidIsValid(roleid))
		profile_raise(PE_E_ROLE_NOT_FOUND, &trace_id, NULL, NULL,
					  "role \"%s\" does not exist", role);

	profile_begin_as_owner(&owner);
	values[0] = ObjectIdGetDatum(roleid);
	values[1] = CStringGetTextDatum(privilege);
	profile_exec(&mark_role_plan, values, NULL, false, 0);
	if (strcmp(privilege, "claims") != 0)
	{
		grant(OBJECT_SCHEMA, ACL_TARGET_OBJECT, profile_schema, "usage", role);
		if (strcmp(privilege, "admin") == 0)
		{
			grant(OBJECT_FUNCTION, ACL_TARGET_ALL_IN_SCHEMA, profile_schema, "execute", role);
			grant(OBJECT_TABLE, ACL_TARGET_ALL_IN_SCHEMA, profile_schema, "select", role);
		}
		else
			for (int i = 0; i < lengthof(api_functions); i++)
			{
				ObjectWithArgs *fn = makeNode(ObjectWithArgs);

				fn->objname = list_make2(makeString("profile"),
										 makeString((char *) api_functions[i].name));
				for (int a = 0; a < lengthof(api_functions[i].args) && api_functions[i].args[a]; a++)
					fn->objargs = lappend(fn->objargs,
										  makeTypeNameFromNameList(list_make2(makeString("pg_catalog"),
																			  makeString((char *) api_functions[i].args[a]))));
				grant(OBJECT_FUNCTION, ACL_TARGET_OBJECT, list_make1(fn), "execute", role);
			}
	}
	profile_owner_end(&owner);
}

PG_FUNCTION_INFO_V1(grant_admin);

/* profile.grant_admin(role name) RETURNS void */
Datum
grant_admin(PG_FUNCTION_ARGS)
{
	grant_role(fcinfo, "admin");
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(grant_api);

/* profile.grant_api(role name) RETURNS void */
Datum
grant_api(PG_FUNCTION_ARGS)
{
	grant_role(fcinfo, "api");
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(trust_claims);

/* profile.trust_claims(role name) RETURNS void */
Datum
trust_claims(PG_FUNCTION_ARGS)
{
	grant_role(fcinfo, "claims");
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(purge_idempotency_keys);

/*
 * profile.purge_idempotency_keys(tenant text DEFAULT NULL) RETURNS bigint:
 * remove the expired idempotency keys of a tenant, or of all (for pg_cron;
 * calls with keys remove a few on the way anyway).
 */
Datum
purge_idempotency_keys(PG_FUNCTION_ARGS)
{
	pg_uuid_t	trace_id;
	int64		tenant_id = -1;
	int64		n;
	OwnerSection owner;

	profile_uuid_v4(&trace_id);
	profile_begin_as_owner(&owner);
	if (!PG_ARGISNULL(0))
	{
		char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
		const TenantInfo *t = profile_lookup_tenant(name, strlen(name));

		if (t == NULL)
			profile_raise(PE_E_TENANT_NOT_FOUND, &trace_id, NULL, NULL,
						  "tenant \"%s\" does not exist",
						  pnstrdup(name, pg_mbcliplen(name, strlen(name), 64)));
		tenant_id = t->id;
	}
	n = profile_idempotency_purge_all(tenant_id, GetCurrentTransactionStartTimestamp());
	profile_owner_end(&owner);
	PG_RETURN_INT64(n);
}
