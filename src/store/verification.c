/*-------------------------------------------------------------------------
 *
 * src/store/verification.c
 *		Verification of new profiles and new addresses (README,
 *		"Verification"; Crafter Profile's tenant-dependent verification):
 *		tokens, links and the outbox.
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
 * verify_profile(token) (api/verify.c) sets verified and enabled, uses the
 * token up, and is audited as profile.verified.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "base/crypto.h"
#include "base/json.h"
#include "store/verification.h"

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

static SavedPlan relink_plan = {
	"UPDATE profile_data.verification_outbox SET link = $3, sent_at = NULL"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
	3, {INT8OID, INT8OID, TEXTOID}
};

static SavedPlan forget_tokens_plan = {
	"DELETE FROM profile_data.verification_tokens"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" AND profile_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, UUIDOID}
};

static SavedPlan forget_outbox_plan = {
	"DELETE FROM profile_data.verification_outbox"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" AND profile_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, UUIDOID}
};

static SavedPlan drop_pending_plan = {
	"DELETE FROM profile_data.verification_outbox"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" AND profile_id OPERATOR(pg_catalog.=) $2 AND sent_at IS NULL",
	2, {INT8OID, UUIDOID}
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
	char	   *token = profile_new_token(PROFILE_VERIFICATION_TOKEN_PREFIX);
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

/* Row row of the last SPI result, of columns OUTBOX_COLUMNS. */
void
profile_read_outbox_row(uint64 row, OutboxRow *o)
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
Jsonb	   *
profile_outbox_mail(OutboxRow *o, bool new_link, TimestampTz now)
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

/*
 * A profile that is deleted or erased takes its verification tokens and
 * mails with it, sent or not: they hold its address and its links.
 */
void
profile_forget_verifications(int64 tenant_id, const pg_uuid_t *profile_id)
{
	Datum		args[2];

	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(profile_id);
	profile_exec(&forget_tokens_plan, args, NULL, false, 0);
	profile_exec(&forget_outbox_plan, args, NULL, false, 0);
}
