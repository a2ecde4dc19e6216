/*-------------------------------------------------------------------------
 *
 * src/verify.c
 *		Verification of new profiles (SPEC section 3; Crafter Profile's
 *		tenant-dependent verification).
 *
 * In a tenant with "verification", create_profile stores the profile
 * unverified and disabled, issues a single-use token (256 random bits,
 * stored only as its SHA-256, expiring after verification_ttl), writes a
 * row to the verification outbox and sends NOTIFY profile_verification
 * with {outbox_id, profile_id, tenant, email, url}, url being the
 * request's verificationUrl with the token added.  The token is in that
 * notification only: never in a result, a table (but as a hash), a log
 * line or an audit row.  The outbox is the durable record a mailer works
 * from; it holds the URL without the token, so a mailer that missed a
 * notification asks resend_verification for a new link (the older tokens
 * of the profile stop working), and marks rows sent with
 * mark_verification_sent.  verify_profile(token) sets verified and
 * enabled, uses the token up, and is audited as profile.verified.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "profile_ext.h"

#define TOKEN_PREFIX "pv_"
#define TOKEN_LEN 46			/* "pv_" and 43 base64url characters */

static SavedPlan token_insert_plan = {
	"INSERT INTO profile_data.verification_tokens"
	" (tenant_id, profile_id, token_hash, client, expires_at)"
	" VALUES ($1, $2, $3, $4, $5)",
	5, {INT8OID, UUIDOID, BYTEAOID, TEXTOID, TIMESTAMPTZOID}
};

static SavedPlan outbox_insert_plan = {
	"INSERT INTO profile_data.verification_outbox"
	" (tenant_id, profile_id, email, verification_url) VALUES ($1, $2, $3, $4)"
	" RETURNING id",
	4, {INT8OID, UUIDOID, TEXTOID, TEXTOID}
};

static SavedPlan token_lookup_plan = {
	"SELECT tenant_id, id, profile_id, client, expires_at, used_at IS NOT NULL OR revoked_at IS NOT NULL"
	" FROM profile_data.verification_tokens WHERE token_hash OPERATOR(pg_catalog.=) $1"
	" FOR UPDATE",
	1, {BYTEAOID}
};

static SavedPlan tenant_name_plan = {
	"SELECT name FROM profile_data.tenants WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static SavedPlan verify_plan = {
	"UPDATE profile_data.profiles SET verified = true, enabled = true, updated_at = $3"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2"
	" RETURNING *",
	3, {INT8OID, UUIDOID, TIMESTAMPTZOID}
};

static SavedPlan use_token_plan = {
	"UPDATE profile_data.verification_tokens SET used_at = $3"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
	3, {INT8OID, INT8OID, TIMESTAMPTZOID}
};

/* The verification URL with the token added as a query parameter. */
static char *
link_with_token(const char *url, const char *token)
{
	return psprintf("%s%stoken=%s", url, strchr(url, '?') ? "&" : "?", token);
}

/* A new token for a profile: stored as its hash; returned in clear once. */
static char *
new_token(const TenantInfo *tenant, int64 tenant_id, const pg_uuid_t *profile_id,
		  const char *client, TimestampTz now)
{
	char	   *token = profile_new_token(TOKEN_PREFIX);
	Datum		ttl = DirectFunctionCall3(interval_in, CStringGetDatum(tenant->verification_ttl),
										  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(profile_id);
	args[2] = PointerGetDatum(profile_token_hash(token, strlen(token)));
	args[3] = client ? CStringGetTextDatum(client) : (Datum) 0;
	nulls[3] = client ? ' ' : 'n';
	args[4] = DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(now), ttl);
	profile_exec(&token_insert_plan, args, nulls, false, 0);
	return token;
}

/* The JSON of a mail to send: {outbox_id, profile_id, tenant, email, url}. */
static char *
mail_json(int64 outbox_id, const pg_uuid_t *profile_id, const char *tenant,
		  const char *email, const char *url)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"outbox_id\": " INT64_FORMAT ", \"profile_id\": \"%s\", \"tenant\": ",
					 outbox_id, profile_uuid_text(profile_id));
	escape_json(&buf, tenant);
	appendStringInfoString(&buf, ", \"email\": ");
	if (email)
		escape_json(&buf, email);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ", \"url\": ");
	escape_json(&buf, url);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * create_profile, in a verifying tenant: the token, the outbox row and the
 * notification, in the caller's transaction (NOTIFY is sent at commit).
 */
void
profile_issue_verification(const ApiCall *ctx, const ProfileRow *row,
						   const char *verification_url)
{
	char	   *token = new_token(ctx->tenant, row->tenant_id, &row->id, ctx->client, ctx->now);
	const char *email = row->isnull[PE_F_EMAIL] ? NULL :
	TextDatumGetCString(row->values[PE_F_EMAIL]);
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	int64		outbox_id;

	args[0] = Int64GetDatum(row->tenant_id);
	args[1] = UUIDPGetDatum(&row->id);
	args[2] = email ? CStringGetTextDatum(email) : (Datum) 0;
	nulls[2] = email ? ' ' : 'n';
	args[3] = CStringGetTextDatum(verification_url);
	profile_exec(&outbox_insert_plan, args, nulls, false, 0);
	outbox_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	Async_Notify("profile_verification",
				 mail_json(outbox_id, &row->id, ctx->tenant->name, email,
						   link_with_token(verification_url, token)));
}

static Jsonb *
verify_internal(text *token)
{
	ApiCall		ctx;
	const char *tok = VARDATA_ANY(token);
	size_t		len = VARSIZE_ANY_EXHDR(token);
	Datum		args[3];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	int64		tenant_id;
	int64		token_id;
	pg_uuid_t	profile_id;
	char	   *tenant_name;
	ProfileRow	row;
	Jsonb	   *result;

	profile_call_begin(&ctx);
	if (len != TOKEN_LEN || strncmp(tok, TOKEN_PREFIX, 3) != 0)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");

	args[0] = PointerGetDatum(profile_token_hash(tok, len));
	profile_exec(&token_lookup_plan, args, NULL, false, 1);
	if (SPI_processed == 0)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	tenant_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	token_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	profile_id = *DatumGetUUIDP(SPI_getbinval(tup, desc, 3, &isnull));
	ctx.client = SPI_getvalue(tup, desc, 4);
	if (DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull)) ||
		DatumGetTimestampTz(SPI_getbinval(tup, desc, 5, &isnull)) <= GetCurrentTimestamp())
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");

	/* a disabled tenant refuses every call */
	args[0] = Int64GetDatum(tenant_id);
	profile_exec(&tenant_name_plan, args, NULL, false, 1);
	tenant_name = SPI_processed ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : "";
	ctx.tenant = profile_lookup_tenant(tenant_name, strlen(tenant_name));
	if (ctx.tenant == NULL)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");
	if (!ctx.tenant->enabled)
		profile_raise(PE_E_TENANT_FORBIDDEN, &ctx.trace_id, NULL, NULL,
					  "tenant \"%s\" is disabled", ctx.tenant->name);
	if (ctx.client == NULL)
		ctx.client = "verification";

	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(&profile_id);
	args[2] = TimestampTzGetDatum(ctx.now);
	profile_audit_set_context(&ctx, tenant_id, &profile_id, false);
	profile_exec(&verify_plan, args, NULL, false, 0);
	profile_audit_clear_context();
	if (SPI_processed == 0)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");
	memset(&row, 0, sizeof(row));
	profile_row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &row);
	row.tenant_name = ctx.tenant->name;
	row.message = "profile verified";
	if (row.incomplete && ctx.tenant->wizard_url)
		row.wizard_url = profile_wizard_url(ctx.tenant->wizard_url, &row.id);

	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(token_id);
	args[2] = TimestampTzGetDatum(ctx.now);
	profile_exec(&use_token_plan, args, NULL, false, 0);

	result = profile_result(&row, &ctx);
	profile_call_end(&ctx);
	return result;
}

/* The body of verify_profile, for profile_api_call. */
static Jsonb *
verify_body(FunctionCallInfo fcinfo)
{
	return verify_internal(PG_ARGISNULL(0) ? cstring_to_text("") : PG_GETARG_TEXT_PP(0));
}

PG_FUNCTION_INFO_V1(verify_profile);

/* profile.verify_profile(token text) RETURNS jsonb */
Datum
verify_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, verify_body));
}

PG_FUNCTION_INFO_V1(mark_verification_sent);

/* profile.mark_verification_sent(outbox_id bigint) RETURNS void */
Datum
mark_verification_sent(PG_FUNCTION_ARGS)
{
	Oid			type = INT8OID;
	Datum		arg = PG_GETARG_DATUM(0);
	int			rc;
	pg_uuid_t	trace_id;
	MemoryContext cxt = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("UPDATE profile_data.verification_outbox"
							   " SET sent_at = COALESCE(sent_at, pg_catalog.now())"
							   " WHERE id OPERATOR(pg_catalog.=) $1", 1, &type, &arg, NULL, false, 0);
	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed == 0)
	{
		profile_uuid_v4(&trace_id);
		profile_raise(PE_E_MAIL_NOT_FOUND, &trace_id, NULL, NULL,
					  "verification mail " INT64_FORMAT " does not exist", DatumGetInt64(arg));
	}
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(resend_verification);

/* profile.resend_verification(outbox_id bigint) RETURNS jsonb */
Datum
resend_verification(PG_FUNCTION_ARGS)
{
	Oid			types[2] = {INT8OID, UUIDOID};
	Datum		args[2];
	int			rc;
	pg_uuid_t	trace_id;
	MemoryContext cxt = CurrentMemoryContext;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	int64		tenant_id;
	pg_uuid_t	profile_id;
	char	   *email;
	char	   *url;
	char	   *tenant_name;
	const TenantInfo *tenant;
	char	   *token;
	char	   *client;
	Jsonb	   *result;

	args[0] = PG_GETARG_DATUM(0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(cxt);
	profile_cache_begin();
	rc = SPI_execute_with_args("SELECT o.tenant_id, o.profile_id, o.email, o.verification_url, t.name"
							   " FROM profile_data.verification_outbox o"
							   " JOIN profile_data.tenants t ON t.id OPERATOR(pg_catalog.=) o.tenant_id"
							   " WHERE o.id OPERATOR(pg_catalog.=) $1", 1, types, args, NULL, false, 1);
	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed");
	profile_uuid_v4(&trace_id);
	if (SPI_processed == 0)
		profile_raise(PE_E_MAIL_NOT_FOUND, &trace_id, NULL, NULL,
					  "verification mail " INT64_FORMAT " does not exist", DatumGetInt64(args[0]));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	tenant_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	profile_id = *DatumGetUUIDP(SPI_getbinval(tup, desc, 2, &isnull));
	email = SPI_getvalue(tup, desc, 3);
	url = SPI_getvalue(tup, desc, 4);
	tenant_name = SPI_getvalue(tup, desc, 5);
	tenant = profile_lookup_tenant(tenant_name, strlen(tenant_name));

	/* the older tokens of the profile stop working */
	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(&profile_id);
	rc = SPI_execute_with_args("UPDATE profile_data.verification_tokens SET revoked_at = pg_catalog.now()"
							   " WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND profile_id OPERATOR(pg_catalog.=) $2"
							   " AND used_at IS NULL AND revoked_at IS NULL RETURNING client",
							   2, types, args, NULL, false, 0);
	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed");
	/* the new token keeps the client that created the profile */
	client = SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
	token = new_token(tenant, tenant_id, &profile_id, client, GetCurrentTransactionStartTimestamp());
	result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(
																		  mail_json(DatumGetInt64(PG_GETARG_DATUM(0)), &profile_id, tenant_name, email,
																					link_with_token(url, token)))));
	SPI_finish();
	PG_RETURN_JSONB_P(result);
}
