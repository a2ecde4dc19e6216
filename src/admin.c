/*-------------------------------------------------------------------------
 *
 * src/admin.c
 *		Admin functions (SPEC section 7): tenants, clients, access tokens,
 *		contracts and role grants.
 *
 * These are SECURITY DEFINER with a pinned search_path; EXECUTE is
 * revoked from PUBLIC and given to admin roles by profile.grant_admin.
 * They are not on a hot path, so they favour plain code over caching.
 * The only SQL built at run time is the GRANT statements of grant_admin
 * and grant_api, which cannot take parameters: they name a role that was
 * looked up in pg_authid first, through quote_identifier.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "profile_ext.h"

/* The data owner's section of an admin function (see api.c). */
static OwnerSection admin_owner;

static void
admin_begin(pg_uuid_t *trace_id)
{
	profile_uuid_v4(trace_id);
	profile_owner_begin(&admin_owner);
}

static void
admin_end(void)
{
	profile_owner_end(&admin_owner);
}

/*
 * Run one parameterised statement; the caller reads SPI_tuptable.  The
 * caller's memory context is restored (see profile_exec).
 */
static uint64
admin_exec(const char *sql, int nargs, Oid *types, Datum *values,
		   const char *nulls)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls,
										   false, 0);

	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

static Datum
result_col(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col,
						 isnull);
}

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
 * Is s a positive interval?  Parsed inside a subtransaction, so a syntax
 * error becomes a field error instead of aborting the call.
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

		ok = DatumGetBool(DirectFunctionCall2(interval_gt, iv, zero));
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return ok;
}

/* Check settings and return their stored form, or raise VALIDATION_FAILED. */
static Jsonb *
checked_settings(Jsonb *settings, const pg_uuid_t *trace_id)
{
	FieldErrors errs = {0};
	TenantInfo	t;

	if (profile_parse_settings(settings, &t, &errs, "settings") &&
		!positive_interval(t.verification_ttl))
		profile_add_error(&errs, "settings.verification_ttl", "format",
						  "must be a positive interval, such as \"24 hours\"");
	if (errs.count > 0)
		profile_raise_validation(trace_id, &errs);
	return profile_settings_jsonb(&t);
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
	Oid			types[2] = {TEXTOID, JSONBOID};
	Datum		values[2];
	bool		isnull;
	Jsonb	   *result;
	TimestampTz created;
	MemoryContext callcxt = CurrentMemoryContext;

	profile_uuid_v4(&trace_id);
	name = required_text(fcinfo, 0, "name", &trace_id, pe_check_name);
	settings = checked_settings(PG_ARGISNULL(1) ?
								DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))) :
								PG_GETARG_JSONB_P(1), &trace_id);

	admin_begin(&trace_id);
	MemoryContextSwitchTo(callcxt);
	values[0] = CStringGetTextDatum(name);
	values[1] = JsonbPGetDatum(settings);
	if (admin_exec("INSERT INTO profile_data.tenants (name, settings) VALUES ($1, $2)"
				   " ON CONFLICT (name) DO NOTHING RETURNING id, created_at",
				   2, types, values, NULL) == 0)
		profile_raise(PE_E_TENANT_EXISTS, &trace_id, NULL, NULL,
					  "tenant \"%s\" already exists", name);
	created = DatumGetTimestampTz(result_col(0, 2, &isnull));
	result = tenant_document(DatumGetInt64(result_col(0, 1, &isnull)), name,
							 settings, created, created);
	admin_end();
	PG_RETURN_JSONB_P(result);
}

PG_FUNCTION_INFO_V1(alter_tenant);

/* profile.alter_tenant(name text, settings jsonb) RETURNS jsonb */
Datum
alter_tenant(PG_FUNCTION_ARGS)
{
	pg_uuid_t	trace_id;
	char	   *name;
	Oid			types[2] = {TEXTOID, JSONBOID};
	Datum		values[2];
	bool		isnull;
	Jsonb	   *merged;
	Jsonb	   *settings;
	Jsonb	   *result;
	int64		id;
	TimestampTz created;
	MemoryContext callcxt = CurrentMemoryContext;

	profile_uuid_v4(&trace_id);
	name = required_text(fcinfo, 0, "name", &trace_id, NULL);
	if (PG_ARGISNULL(1))
	{
		FieldErrors errs = {0};

		profile_add_error(&errs, "settings", "required", "is required");
		profile_raise_validation(&trace_id, &errs);
	}

	admin_begin(&trace_id);
	MemoryContextSwitchTo(callcxt);
	values[0] = CStringGetTextDatum(name);
	if (admin_exec("SELECT id, settings, created_at FROM profile_data.tenants"
				   " WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
				   1, types, values, NULL) == 0)
		profile_raise(PE_E_TENANT_NOT_FOUND, &trace_id, NULL, NULL,
					  "tenant \"%s\" does not exist", name);
	id = DatumGetInt64(result_col(0, 1, &isnull));
	created = DatumGetTimestampTz(result_col(0, 3, &isnull));
	merged = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat,
												result_col(0, 2, &isnull),
												PG_GETARG_DATUM(1)));
	if (!JB_ROOT_IS_OBJECT(PG_GETARG_JSONB_P(1)))
		merged = PG_GETARG_JSONB_P(1);	/* let the check report the type */
	settings = checked_settings(merged, &trace_id);

	values[0] = Int64GetDatum(id);
	values[1] = JsonbPGetDatum(settings);
	types[0] = INT8OID;
	admin_exec("UPDATE profile_data.tenants SET settings = $2,"
			   " updated_at = pg_catalog.now()"
			   " WHERE id OPERATOR(pg_catalog.=) $1", 2, types, values, NULL);
	result = tenant_document(id, name, settings, created,
							 GetCurrentTransactionStartTimestamp());
	admin_end();
	PG_RETURN_JSONB_P(result);
}

PG_FUNCTION_INFO_V1(create_client);

/* profile.create_client(name text) RETURNS jsonb */
Datum
create_client(PG_FUNCTION_ARGS)
{
	pg_uuid_t	trace_id;
	char	   *name;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	JsonbParseState *st = NULL;
	JsonbValue *res;
	MemoryContext callcxt = CurrentMemoryContext;

	profile_uuid_v4(&trace_id);
	name = required_text(fcinfo, 0, "name", &trace_id, pe_check_name);
	admin_begin(&trace_id);
	MemoryContextSwitchTo(callcxt);
	values[0] = CStringGetTextDatum(name);
	if (admin_exec("INSERT INTO profile_data.clients (name) VALUES ($1)"
				   " ON CONFLICT (name) DO NOTHING RETURNING id, created_at",
				   1, types, values, NULL) == 0)
		profile_raise(PE_E_CLIENT_EXISTS, &trace_id, NULL, NULL,
					  "client \"%s\" already exists", name);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_int(&st, "id", DatumGetInt64(result_col(0, 1, &isnull)));
	profile_push_text(&st, "name", name);
	profile_push_timestamp(&st, "created_at",
						   DatumGetTimestampTz(result_col(0, 2, &isnull)));
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	admin_end();
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}

/* The id of a client, or CLIENT_NOT_FOUND.  SPI must be connected. */
static int64
client_id(const char *name, const pg_uuid_t *trace_id)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;

	values[0] = CStringGetTextDatum(name);
	if (admin_exec("SELECT id FROM profile_data.clients"
				   " WHERE name OPERATOR(pg_catalog.=) $1",
				   1, types, values, NULL) == 0)
		profile_raise(PE_E_CLIENT_NOT_FOUND, trace_id, NULL, NULL,
					  "client \"%s\" does not exist", name);
	return DatumGetInt64(result_col(0, 1, &isnull));
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
	int64		cid;
	char	   *token;
	Oid			types[4] = {INT8OID, BYTEAOID, INT8ARRAYOID, TIMESTAMPTZOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	MemoryContext callcxt = CurrentMemoryContext;
	FieldErrors errs = {0};

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

	admin_begin(&trace_id);
	MemoryContextSwitchTo(callcxt);
	cid = client_id(client, &trace_id);
	values[0] = Int64GetDatum(cid);
	nulls[2] = 'n';
	if (!PG_ARGISNULL(1))
	{
		Oid			t1[1] = {TEXTARRAYOID};
		Datum		v1[1] = {PG_GETARG_DATUM(1)};
		bool		isnull;

		if (admin_exec("SELECT n FROM pg_catalog.unnest($1) n WHERE NOT EXISTS"
					   " (SELECT FROM profile_data.tenants t"
					   "   WHERE t.name OPERATOR(pg_catalog.=) n) LIMIT 1",
					   1, t1, v1, NULL) > 0)
			profile_raise(PE_E_TENANT_NOT_FOUND, &trace_id, NULL, NULL,
						  "tenant \"%s\" does not exist",
						  TextDatumGetCString(result_col(0, 1, &isnull)));
		admin_exec("SELECT pg_catalog.array_agg(id ORDER BY id) FROM profile_data.tenants"
				   " WHERE name OPERATOR(pg_catalog.=) ANY ($1)", 1, t1, v1, NULL);
		values[2] = SPI_datumTransfer(result_col(0, 1, &isnull), false, -1);
		nulls[2] = ' ';
	}
	values[3] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[3] = PG_ARGISNULL(2) ? 'n' : ' ';

	token = profile_new_token("pe_");
	values[1] = PointerGetDatum(profile_token_hash(token, strlen(token)));
	admin_exec("INSERT INTO profile_data.access_tokens"
			   " (client_id, token_hash, tenant_ids, expires_at)"
			   " VALUES ($1, $2, $3, $4)", 4, types, values, nulls);
	admin_end();
	PG_RETURN_TEXT_P(cstring_to_text(token));
}

/* Revoke the token whose secret is given. */
static void
revoke_token(text *token)
{
	pg_uuid_t	trace_id;
	Oid			types[1] = {BYTEAOID};
	Datum		values[1];
	MemoryContext callcxt = CurrentMemoryContext;

	values[0] = PointerGetDatum(profile_token_hash(VARDATA_ANY(token),
												   VARSIZE_ANY_EXHDR(token)));

	admin_begin(&trace_id);
	MemoryContextSwitchTo(callcxt);
	if (admin_exec("UPDATE profile_data.access_tokens"
				   " SET revoked_at = COALESCE(revoked_at, pg_catalog.now())"
				   " WHERE token_hash OPERATOR(pg_catalog.=) $1",
				   1, types, values, NULL) == 0)
		profile_raise(PE_E_TOKEN_NOT_FOUND, &trace_id, NULL, NULL,
					  "access token does not exist");
	admin_end();
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
	Oid			types[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	MemoryContext callcxt = CurrentMemoryContext;

	profile_uuid_v4(&trace_id);
	client = required_text(fcinfo, 0, "client", &trace_id, NULL);
	contract = required_text(fcinfo, 1, "contract", &trace_id, pe_check_name);
	if (PG_ARGISNULL(2))
		profile_add_error(&errs, "valid_from", "required", "is required");
	else if (!PG_ARGISNULL(3) && PG_GETARG_TIMESTAMPTZ(3) <= PG_GETARG_TIMESTAMPTZ(2))
		profile_add_error(&errs, "valid_until", "range", "must be later than valid_from");
	if (errs.count > 0)
		profile_raise_validation(&trace_id, &errs);

	admin_begin(&trace_id);
	MemoryContextSwitchTo(callcxt);
	values[0] = Int64GetDatum(client_id(client, &trace_id));
	values[1] = CStringGetTextDatum(contract);
	values[2] = PG_GETARG_DATUM(2);
	values[3] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	nulls[3] = PG_ARGISNULL(3) ? 'n' : ' ';
	admin_exec("INSERT INTO profile_data.contracts (client_id, name, valid_from, valid_until)"
			   " VALUES ($1, $2, $3, $4)", 4, types, values, nulls);
	admin_end();
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
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	MemoryContext callcxt = CurrentMemoryContext;

	profile_uuid_v4(&trace_id);
	client = required_text(fcinfo, 0, "client", &trace_id, NULL);
	contract = required_text(fcinfo, 1, "contract", &trace_id, NULL);

	admin_begin(&trace_id);
	MemoryContextSwitchTo(callcxt);
	values[0] = Int64GetDatum(client_id(client, &trace_id));
	values[1] = CStringGetTextDatum(contract);
	if (admin_exec("SELECT FROM profile_data.contracts"
				   " WHERE client_id OPERATOR(pg_catalog.=) $1"
				   " AND name OPERATOR(pg_catalog.=) $2 LIMIT 1",
				   2, types, values, NULL) == 0)
		profile_raise(PE_E_CONTRACT_NOT_FOUND, &trace_id, NULL, NULL,
					  "client \"%s\" has no contract \"%s\"", client, contract);
	admin_exec("UPDATE profile_data.contracts SET ended_at = pg_catalog.now()"
			   " WHERE client_id OPERATOR(pg_catalog.=) $1"
			   " AND name OPERATOR(pg_catalog.=) $2 AND ended_at IS NULL",
			   2, types, values, NULL);
	admin_end();
	PG_RETURN_VOID();
}

/* Functions an API role may execute (profile.grant_api). */
static const char *const api_functions[] = {
	"profile.create_profile(jsonb)",
	"profile.register_user_profile(uuid, jsonb)",
	"profile.update_profile(uuid, jsonb)",
	"profile.verify_profile(text)",
};

/*
 * Record a role's privilege in profile_data.role_grants and issue the
 * GRANTs that go with it.
 */
static void
grant_role(FunctionCallInfo fcinfo, const char *privilege)
{
	pg_uuid_t	trace_id;
	char	   *role;
	Oid			roleid;
	const char *quoted;
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	MemoryContext callcxt = CurrentMemoryContext;

	profile_uuid_v4(&trace_id);
	/* the functions are STRICT */
	role = pstrdup(NameStr(*PG_GETARG_NAME(0)));
	roleid = get_role_oid(role, true);
	if (!OidIsValid(roleid))
		profile_raise(PE_E_ROLE_NOT_FOUND, &trace_id, NULL, NULL,
					  "role \"%s\" does not exist", role);
	quoted = quote_identifier(role);

	admin_begin(&trace_id);
	MemoryContextSwitchTo(callcxt);
	values[0] = ObjectIdGetDatum(roleid);
	values[1] = CStringGetTextDatum(privilege);
	admin_exec("INSERT INTO profile_data.role_grants (role, privilege)"
			   " VALUES ($1::pg_catalog.regrole, $2) ON CONFLICT DO NOTHING",
			   2, types, values, NULL);
	if (strcmp(privilege, "claims") == 0)
	{
		/* a mark only: what the role may call comes from grant_api */
		admin_end();
		return;
	}
	admin_exec(psprintf("GRANT USAGE ON SCHEMA profile TO %s", quoted),
			   0, NULL, NULL, NULL);
	if (strcmp(privilege, "admin") == 0)
	{
		admin_exec(psprintf("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA profile TO %s",
							quoted), 0, NULL, NULL, NULL);
		admin_exec(psprintf("GRANT SELECT ON ALL TABLES IN SCHEMA profile TO %s",
							quoted), 0, NULL, NULL, NULL);
	}
	else
		for (int i = 0; i < lengthof(api_functions); i++)
			admin_exec(psprintf("GRANT EXECUTE ON FUNCTION %s TO %s",
								api_functions[i], quoted), 0, NULL, NULL, NULL);
	admin_end();
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
