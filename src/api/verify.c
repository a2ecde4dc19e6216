/*-------------------------------------------------------------------------
 *
 * src/api/verify.c
 *		profile.verify_profile, and the mailer's functions:
 *		claim_verification_mails, mark_verification_sent and
 *		resend_verification (README, "Verification").
 *
 * The tokens, links and the outbox are store/verification.c's.  A mailer
 * (an admin role) takes pending mails with claim_verification_mails,
 * which locks the rows it hands out FOR UPDATE SKIP LOCKED: two mailers
 * never get the same mail, and a mail whose claiming transaction ends
 * without mark_verification_sent is handed out again (at-least-once
 * delivery).  mark_verification_sent records the sending and erases the
 * link, so the token is in no table afterwards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "catalog/settings.h"
#include "model/caller.h"
#include "model/document.h"
#include "store/verification.h"

#define MAX_CLAIM 10000			/* mails one claim hands out at most */

/*
 * A token is found by its hash in two steps: its tenant (on Citus, a look
 * at every shard, since the hash names no tenant), then the row, locked,
 * in that tenant (one shard: Citus locks rows of one shard only).
 */
static SavedPlan token_tenant_plan = {
	"SELECT tenant_id FROM profile_data.verification_tokens"
	" WHERE token_hash OPERATOR(pg_catalog.=) $1",
	1, {BYTEAOID}
};

static SavedPlan token_lookup_plan = {
	"SELECT tenant_id, id, profile_id, client, expires_at,"
	" used_at IS NOT NULL OR revoked_at IS NOT NULL"
	" FROM profile_data.verification_tokens WHERE tenant_id OPERATOR(pg_catalog.=) $2"
	" AND token_hash OPERATOR(pg_catalog.=) $1"
	" FOR UPDATE",
	2, {BYTEAOID, INT8OID}
};

static SavedPlan verify_plan = {
	"UPDATE profile_data.profiles SET verified = true, enabled = true, updated_at = $3,"
	" api_mark = $4"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2"
	" RETURNING *",
	4, {INT8OID, UUIDOID, TIMESTAMPTZOID, TEXTOID}
};

static SavedPlan use_token_plan = {
	"UPDATE profile_data.verification_tokens SET used_at = $3"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
	3, {INT8OID, INT8OID, TIMESTAMPTZOID}
};

static SavedPlan claim_plan = {
	"SELECT " OUTBOX_COLUMNS
	" FROM profile_data.verification_outbox WHERE sent_at IS NULL"
	" ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
	1, {INT8OID}
};

/*
 * On Citus, where rows of several shards cannot be locked in one
 * statement: the tenants with pending mails, then each tenant's.
 */
static SavedPlan pending_tenants_plan = {
	"SELECT tenant_id FROM profile_data.verification_outbox WHERE sent_at IS NULL"
	" GROUP BY tenant_id ORDER BY pg_catalog.min(id)",
	0, {InvalidOid}
};

static SavedPlan claim_tenant_plan = {
	"SELECT " OUTBOX_COLUMNS
	" FROM profile_data.verification_outbox WHERE tenant_id OPERATOR(pg_catalog.=) $2"
	" AND sent_at IS NULL"
	" ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
	2, {INT8OID, INT8OID}
};

/* a mail by its id: its tenant first, as for tokens */
static SavedPlan outbox_tenant_plan = {
	"SELECT tenant_id FROM profile_data.verification_outbox"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static SavedPlan outbox_row_plan = {
	"SELECT " OUTBOX_COLUMNS
	" FROM profile_data.verification_outbox WHERE tenant_id OPERATOR(pg_catalog.=) $2"
	" AND id OPERATOR(pg_catalog.=) $1"
	" FOR UPDATE",
	2, {INT8OID, INT8OID}
};

static SavedPlan mark_sent_plan = {
	"UPDATE profile_data.verification_outbox"
	" SET sent_at = COALESCE(sent_at, $2), link = NULL"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {INT8OID, TIMESTAMPTZOID}
};

static Jsonb *
verify_internal(text *token)
{
	ApiCall		ctx;
	const char *tok = VARDATA_ANY(token);
	size_t		len = VARSIZE_ANY_EXHDR(token);
	Datum		args[4];
	bool		isnull;
	int64		tenant_id;
	int64		token_id;
	pg_uuid_t	profile_id;
	Datum		d;
	ProfileRow	row;
	Jsonb	   *result;

	profile_call_begin(&ctx, "verify_profile()");
	if (len != PROFILE_VERIFICATION_TOKEN_LEN ||
		strncmp(tok, PROFILE_VERIFICATION_TOKEN_PREFIX, 3) != 0)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");

	args[0] = PointerGetDatum(profile_token_hash(tok, len));
	profile_exec(&token_tenant_plan, args, NULL, false, 1);
	if (SPI_processed == 0)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");
	args[1] = profile_spi_required(0, 1, "verification_tokens");
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
	args[3] = CStringGetTextDatum(profile_audit_mark(&ctx.trace_id, ctx.client, 0));
	profile_audit_set_context(tenant_id, &profile_id);
	profile_exec(&verify_plan, args, NULL, false, 0);
	profile_audit_clear_context();
	if (SPI_processed == 0)
		profile_raise(PE_E_VERIFICATION_INVALID, &ctx.trace_id, NULL, NULL,
					  "verification token is unknown, used or expired");
	memset(&row, 0, sizeof(row));
	profile_row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &row);
	row.tenant_name = ctx.tenant->name;
	row.message = "profile verified";
	if (row.incomplete)
		row.wizard_url = profile_wizard_url(ctx.tenant->wizard_url, &row.id);

	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(token_id);
	args[2] = TimestampTzGetDatum(ctx.now);
	profile_exec(&use_token_plan, args, NULL, false, 0);

	result = profile_result(&row, &ctx.trace_id);
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

static int
outbox_id_cmp(const void *a, const void *b)
{
	int64		x = ((const OutboxRow *) a)->id;
	int64		y = ((const OutboxRow *) b)->id;

	return (x > y) - (x < y);
}

/*
 * Claim up to max pending mails tenant by tenant (Citus), oldest tenant
 * first; into rows, in id order.  How many.
 */
static uint64
claim_by_tenant(int32 max, OutboxRow *rows)
{
	uint64		ntenants;
	Datum	   *tenants;
	uint64		n = 0;

	profile_exec(&pending_tenants_plan, NULL, NULL, false, 0);
	ntenants = SPI_processed;
	tenants = palloc(sizeof(Datum) * Max(ntenants, 1));
	for (uint64 t = 0; t < ntenants; t++)
		tenants[t] = profile_spi_required(t, 1, "verification_outbox");
	for (uint64 t = 0; t < ntenants && n < (uint64) max; t++)
	{
		Datum		args[2];

		CHECK_FOR_INTERRUPTS();
		args[0] = Int64GetDatum(max - (int64) n);
		args[1] = tenants[t];
		profile_exec(&claim_tenant_plan, args, NULL, false, 0);
		for (uint64 i = 0; i < SPI_processed; i++)
			profile_read_outbox_row(i, &rows[n++]);
	}
	qsort(rows, n, sizeof(OutboxRow), outbox_id_cmp);
	return n;
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

	profile_begin_as_owner(&owner);
	rows = palloc(sizeof(OutboxRow) * max_mails);
	mails = palloc(sizeof(Datum) * max_mails);
	if (!profile_citus())
	{
		arg = Int64GetDatum(max_mails);
		profile_exec(&claim_plan, &arg, NULL, false, 0);
		n = SPI_processed;
		for (uint64 i = 0; i < n; i++)
			profile_read_outbox_row(i, &rows[i]);
	}
	else
		n = claim_by_tenant(max_mails, rows);
	for (uint64 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		mails[i] = JsonbPGetDatum(profile_outbox_mail(&rows[i], false, now));
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

	profile_begin_as_owner(&owner);
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

	profile_begin_as_owner(&owner);
	profile_exec(&outbox_tenant_plan, &arg, NULL, false, 1);
	if (SPI_processed > 0)
	{
		Datum		args[2];

		args[0] = arg;
		args[1] = profile_spi_required(0, 1, "verification_outbox");
		profile_exec(&outbox_row_plan, args, NULL, false, 1);
	}
	if (SPI_processed == 0)
	{
		profile_uuid_v4(&trace_id);
		profile_raise(PE_E_MAIL_NOT_FOUND, &trace_id, NULL, NULL,
					  "verification mail " INT64_FORMAT " does not exist",
					  DatumGetInt64(arg));
	}
	profile_read_outbox_row(0, &row);
	result = profile_outbox_mail(&row, true, GetCurrentTransactionStartTimestamp());
	profile_owner_end(&owner);
	PG_RETURN_JSONB_P(result);
}
