/*-------------------------------------------------------------------------
 *
 * src/verify.c
 *		Verification of new profiles (README, "Verification"; Crafter
 *		Profile's tenant-dependent verification).
 *
 * In a tenant with "verification", a new profile (or one whose email
 * changes) is stored unverified and disabled, and gets a single-use token:
 * 256 random bits, stored only as its SHA-256, expiring after
 * verification_ttl, every earlier token of the profile ended.  The link --
 * the request's verificationUrl, or the tenant's verification_url, with
 * the token added -- waits in profile_data.verification_outbox, a table
 * only admin roles can read, and NOTIFY profile_verification announces it
 * with {"outbox_id", "tenant"} and nothing else: LISTEN needs no
 * privilege, so a notification never carries a token, an address or a
 * link.
 *
 * A mailer (an admin role) takes pending mails with
 * claim_verification_mails, which locks the rows it hands out FOR UPDATE
 * SKIP LOCKED: two mailers never get the same mail, and a mail whose
 * claiming transaction ends without mark_verification_sent is handed out
 * again (at-least-once delivery).  mark_verification_sent records the
 * sending and erases the link, so the token is in no table afterwards.
 * resend_verification gives an outbox row a new token and link.
 *
 * verify_profile(token) sets verified and enabled, uses the token up, and
 * is audited as profile.verified.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "profile_ext.h"

#define TOKEN_PREFIX "pv_"
#define TOKEN_LEN 46			/* "pv_" and 43 base64url characters */
#define MAX_CLAIM 10000			/* mails one claim hands out at most */

static SavedPlan end_tokens_plan = {
	"UPDATE profile_data.verification_tokens SET revoked_at = $3"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" AND profile_id OPERATOR(pg_catalog.=) $2"
	" AND used_at IS NULL AND revoked_at IS NULL"
	" RETURNING client",
	3, {INT8OID, UUIDOID, TIMESTAMPTZOID}
};

static SavedPlan token_insert_plan = {
	"INSERT INTO profile_data.verification_tokens"
	" (tenant_id, profile_id, token_hash, client, expires_at, created_at)"
	" VALUES ($1, $2, $3, $4, $5, $6)",
	6, {INT8OID, UUIDOID, BYTEAOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static SavedPlan outbox_insert_plan = {
	"INSERT INTO profile_data.verification_outbox"
	" (tenant_id, profile_id, email, verification_url, link, created_at)"
	" VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
	6, {INT8OID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID}
};

static SavedPlan token_lookup_plan = {
	"SELECT tenant_id, id, profile_id, client, expires_at,"
	" used_at IS NOT NULL OR revoked_at IS NOT NULL"
	" FROM profile_data.verification_tokens WHERE token_hash OPERATOR(pg_catalog.=) $1"
	" FOR UPDATE",
	1, {BYTEAOID}
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

static SavedPlan claim_plan = {
	"SELECT id, tenant_id, profile_id, email, verification_url, link"
	" FROM profile_data.verification_outbox WHERE sent_at IS NULL"
	" ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
	1, {INT8OID}
};

static SavedPlan outbox_row_plan = {
	"SELECT id, tenant_id, profile_id, email, verification_url, link"
	" FROM profile_data.verification_outbox WHERE id OPERATOR(pg_catalog.=) $1"
	" FOR UPDATE",
	1, {INT8OID}
};

static SavedPlan relink_plan = {
	"UPDATE profile_data.verification_outbox SET link = $3, sent_at = NULL"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
	3, {INT8OID, INT8OID, TEXTOID}
};

static SavedPlan drop_pending_plan = {
	"DELETE FROM profile_data.verification_outbox"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" AND profile_id OPERATOR(pg_catalog.=) $2 AND sent_at IS NULL",
	2, {INT8OID, UUIDOID}
};

static SavedPlan mark_sent_plan = {
	"UPDATE profile_data.verification_outbox"
	" SET sent_at = COALESCE(sent_at, $2), link = NULL"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {INT8OID, TIMESTAMPTZOID}
};

/*
 * The verification URL with the token added as a query parameter, before
 * any fragment (a token in the fragment would never reach the server).
 */
static char *
link_with_token(const char *url, const char *token)
{
	const char *hash = strchr(url, '#');
	int			base = hash ? (int) (hash - url) : (int) strlen(url);
	bool		has_query = memchr(url, '?', base) != NULL;

	return psprintf("%.*s%stoken=%s%s", base, url, has_query ? "&" : "?",
					token, hash ? hash : "");
}

/*
 * A new token for a profile, every earlier one ended: stored as its hash;
 * returned in clear, once.  client: who asked for it; NULL keeps the client
 * of the token it replaces (a mail sent again).
 */
static char *
new_token(const TenantInfo *tenant, const pg_uuid_t *profile_id,
		  const char *client, TimestampTz now)
{
	char	   *token = profile_new_token(TOKEN_PREFIX);
	Datum		ttl = DirectFunctionCall3(interval_in, CStringGetDatum(tenant->verification_ttl),
										  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	args[0] = Int64GetDatum(tenant->id);
	args[1] = UUIDPGetDatum(profile_id);
	args[2] = TimestampTzGetDatum(now);
	profile_exec(&end_tokens_plan, args, NULL, false, 0);
	for (uint64 i = 0; client == NULL && i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = profile_spi_value(i, 1, &isnull);

		if (!isnull)
			client = TextDatumGetCString(d);
	}

	args[2] = PointerGetDatum(profile_token_hash(token, strlen(token)));
	args[3] = client ? CStringGetTextDatum(client) : (Datum) 0;
	nulls[3] = client ? ' ' : 'n';
	args[4] = DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(now), ttl);
	args[5] = TimestampTzGetDatum(now);
	profile_exec(&token_insert_plan, args, nulls, false, 0);
	return token;
}

/*
 * The link a verification mail carries: the request's verificationUrl, or
 * the tenant's verification_url; NULL if neither is there (the caller
 * reports rule "required").
 */
const char *
profile_verification_base(const TenantInfo *tenant, const ProfileInput *in)
{
	if (in && in->present[PE_F_VERIFICATION_URL] &&
		in->raw[PE_F_VERIFICATION_URL].type == jbvString)
		return pnstrdup(in->raw[PE_F_VERIFICATION_URL].val.string.val,
						in->raw[PE_F_VERIFICATION_URL].val.string.len);
	return tenant->verification_url;
}

/*
 * A new verification for the profile of row (create_profile, or an email
 * changed by update_profile): a token, every earlier one ended, the
 * outbox row with the link, and the notification, all in the caller's
 * transaction (NOTIFY is sent at commit, and only if it commits).
 */
void
profile_issue_verification(const ApiCall *ctx, const ProfileRow *row,
						   const char *verification_url)
{
	char	   *token;
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int64		outbox_id;
	StringInfoData payload;

	/* mails of an earlier address are void */
	profile_end_verifications(ctx, &row->id);
	token = new_token(ctx->tenant, &row->id, ctx->client, ctx->now);

	args[0] = Int64GetDatum(row->tenant_id);
	args[1] = UUIDPGetDatum(&row->id);
	args[2] = row->values[PE_F_EMAIL];
	nulls[2] = row->isnull[PE_F_EMAIL] ? 'n' : ' ';
	args[3] = CStringGetTextDatum(verification_url);
	args[4] = CStringGetTextDatum(link_with_token(verification_url, token));
	args[5] = TimestampTzGetDatum(ctx->now);
	profile_exec(&outbox_insert_plan, args, nulls, false, 0);
	outbox_id = DatumGetInt64(profile_spi_required(0, 1, "verification_outbox"));

	initStringInfo(&payload);
	appendStringInfo(&payload, "{\"outbox_id\": " INT64_FORMAT ", \"tenant\": ",
					 outbox_id);
	escape_json(&payload, ctx->tenant->name);
	appendStringInfoChar(&payload, '}');
	Async_Notify("profile_verification", payload.data);
}

/*
 * End every pending verification of a profile: its tokens stop working
 * and its unsent mails, whose links carry them, are dropped.
 */
void
profile_end_verifications(const ApiCall *ctx, const pg_uuid_t *profile_id)
{
	Datum		args[3];

	args[0] = Int64GetDatum(ctx->tenant->id);
	args[1] = UUIDPGetDatum(profile_id);
	args[2] = TimestampTzGetDatum(ctx->now);
	profile_exec(&end_tokens_plan, args, NULL, false, 0);
	profile_exec(&drop_pending_plan, args, NULL, false, 0);
}

static Jsonb *
verify_internal(text *token)
{
	ApiCall		ctx;
	const char *tok = VARDATA_ANY(token);
	size_t		len = VARSIZE_ANY_EXHDR(token);
	Datum		args[3];
	bool		isnull;
	int64		tenant_id;
	int64		token_id;
	pg_uuid_t	profile_id;
	Datum		d;
	ProfileRow	row;
	Jsonb	   *result;

	profile_call_begin(&ctx, "verify_profile()");
	if (len != TOKEN_LEN || strncmp(tok, TOKEN_PREFIX, 3) != 0)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");

	args[0] = PointerGetDatum(profile_token_hash(tok, len));
	profile_exec(&token_lookup_plan, args, NULL, false, 1);
	if (SPI_processed == 0)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");
	tenant_id = DatumGetInt64(profile_spi_required(0, 1, "verification_tokens"));
	token_id = DatumGetInt64(profile_spi_required(0, 2, "verification_tokens"));
	profile_id = *DatumGetUUIDP(profile_spi_required(0, 3, "verification_tokens"));
	d = profile_spi_value(0, 4, &isnull);
	ctx.client = isnull ? "verification" : TextDatumGetCString(d);
	if (DatumGetBool(profile_spi_required(0, 6, "verification_tokens")) ||
		DatumGetTimestampTz(profile_spi_required(0, 5, "verification_tokens")) <=
		GetCurrentTimestamp())
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");

	/* a disabled tenant refuses every call */
	ctx.tenant = profile_tenant_by_id(tenant_id);
	if (ctx.tenant == NULL)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");
	if (!ctx.tenant->enabled)
		profile_raise(PE_E_TENANT_FORBIDDEN, &ctx.trace_id, NULL, NULL,
					  "tenant \"%s\" is disabled", ctx.tenant->name);

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

/* A row of the outbox, as claim and resend read it. */
typedef struct OutboxRow
{
	int64		id;
	int64		tenant_id;
	pg_uuid_t	profile_id;
	char	   *email;			/* may be NULL */
	char	   *url;			/* the link without its token */
	char	   *link;			/* NULL once sent (or written by 1.0) */
} OutboxRow;

#define OUTBOX_COLUMNS "id, tenant_id, profile_id, email, verification_url, link"

/* Row row of the last SPI result, of columns OUTBOX_COLUMNS. */
static void
read_outbox_row(uint64 row, OutboxRow *o)
{
	const char *table = "verification_outbox";
	bool		isnull;
	Datum		d;

	o->id = DatumGetInt64(profile_spi_required(row, 1, table));
	o->tenant_id = DatumGetInt64(profile_spi_required(row, 2, table));
	o->profile_id = *DatumGetUUIDP(profile_spi_required(row, 3, table));
	d = profile_spi_value(row, 4, &isnull);
	o->email = isnull ? NULL : TextDatumGetCString(d);
	o->url = profile_spi_text(row, 5, table);
	d = profile_spi_value(row, 6, &isnull);
	o->link = isnull ? NULL : TextDatumGetCString(d);
}

/*
 * The mail of an outbox row as the mailer gets it: {"outbox_id", "tenant",
 * "profile_id", "email", "url"}.  new_link, or a row without a link (one
 * written by 1.0, which kept none): a new token and link first.
 */
static Jsonb *
outbox_mail(OutboxRow *o, bool new_link, TimestampTz now)
{
	const TenantInfo *tenant = profile_tenant_by_id(o->tenant_id);
	JsonbParseState *st = NULL;

	if (tenant == NULL)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("a row of table \"profile_data.verification_outbox\" is damaged"),
				errdetail("Verification mail " INT64_FORMAT " names tenant " INT64_FORMAT ", which does not exist.",
						  o->id, o->tenant_id));
	if (o->link == NULL || new_link)
	{
		Datum		args[3];

		o->link = link_with_token(o->url, new_token(tenant, &o->profile_id, NULL, now));
		args[0] = Int64GetDatum(o->tenant_id);
		args[1] = Int64GetDatum(o->id);
		args[2] = CStringGetTextDatum(o->link);
		profile_exec(&relink_plan, args, NULL, false, 0);
	}

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_int(&st, "outbox_id", o->id);
	profile_push_text(&st, "tenant", tenant->name);
	profile_push_uuid(&st, "profile_id", &o->profile_id);
	profile_push_text(&st, "email", o->email);
	profile_push_text(&st, "url", o->link);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

PG_FUNCTION_INFO_V1(claim_verification_mails);

/*
 * profile.claim_verification_mails(max_mails int) RETURNS SETOF jsonb: the
 * oldest pending mails that no other transaction holds, locked until the
 * caller's transaction ends.
 */
Datum
claim_verification_mails(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		max_mails = PG_GETARG_INT32(0);
	OwnerSection owner;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum		arg;
	OutboxRow  *rows;
	Datum	   *mails;
	uint64		n;

	if (max_mails < 1 || max_mails > MAX_CLAIM)
	{
		FieldErrors errs = {0};
		pg_uuid_t	trace_id;

		profile_uuid_v4(&trace_id);
		profile_add_error(&errs, "max_mails", "range", "must be between 1 and 10000");
		profile_raise_validation(&trace_id, &errs);
	}
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC | MAT_SRF_BLESS);

	profile_owner_begin(&owner);
	arg = Int64GetDatum(max_mails);
	profile_exec(&claim_plan, &arg, NULL, false, 0);
	n = SPI_processed;
	rows = palloc(sizeof(OutboxRow) * Max(n, 1));
	mails = palloc(sizeof(Datum) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
		read_outbox_row(i, &rows[i]);
	for (uint64 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		mails[i] = JsonbPGetDatum(outbox_mail(&rows[i], false, now));
	}
	profile_owner_end(&owner);

	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &mails[i], &isnull);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(mark_verification_sent);

/*
 * profile.mark_verification_sent(outbox_id bigint) RETURNS void: the mail
 * went out; its link (and with it the token) is erased.
 */
Datum
mark_verification_sent(PG_FUNCTION_ARGS)
{
	Datum		args[2];
	pg_uuid_t	trace_id;
	OwnerSection owner;

	profile_owner_begin(&owner);
	args[0] = PG_GETARG_DATUM(0);
	args[1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	profile_exec(&mark_sent_plan, args, NULL, false, 0);
	if (SPI_processed == 0)
	{
		profile_uuid_v4(&trace_id);
		profile_raise(PE_E_MAIL_NOT_FOUND, &trace_id, NULL, NULL,
					  "verification mail " INT64_FORMAT " does not exist",
					  PG_GETARG_INT64(0));
	}
	profile_owner_end(&owner);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(resend_verification);

/*
 * profile.resend_verification(outbox_id bigint) RETURNS jsonb: a new token
 * and link for the mail (the profile's earlier tokens end), pending again.
 */
Datum
resend_verification(PG_FUNCTION_ARGS)
{
	Datum		arg = PG_GETARG_DATUM(0);
	pg_uuid_t	trace_id;
	OwnerSection owner;
	OutboxRow	row;
	Jsonb	   *result;

	profile_owner_begin(&owner);
	profile_exec(&outbox_row_plan, &arg, NULL, false, 1);
	if (SPI_processed == 0)
	{
		profile_uuid_v4(&trace_id);
		profile_raise(PE_E_MAIL_NOT_FOUND, &trace_id, NULL, NULL,
					  "verification mail " INT64_FORMAT " does not exist",
					  DatumGetInt64(arg));
	}
	read_outbox_row(0, &row);
	result = outbox_mail(&row, true, GetCurrentTransactionStartTimestamp());
	profile_owner_end(&owner);
	PG_RETURN_JSONB_P(result);
}
