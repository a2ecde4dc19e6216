/*-------------------------------------------------------------------------
 *
 * src/create.c
 *		profile.create_profile(jsonb) (SPEC section 3).
 *
 * Uniqueness.  Username, email (both case-insensitively) and phone are
 * unique per tenant through unique indexes.  The insert is
 * INSERT ... ON CONFLICT DO NOTHING with no arbiter, so it covers every
 * unique index: a concurrent insert of the same value makes this one wait
 * for the other transaction, and then either insert (the other rolled
 * back) or insert nothing (it committed).  Nothing inserted means taken;
 * one more probe, with a fresh snapshot, names the field.  No
 * subtransaction and no raw unique_violation ever reaches the caller.
 * Under REPEATABLE READ or SERIALIZABLE a conflict with a row the
 * snapshot cannot see is a serialization failure (40001), which clients
 * retry (PostgREST does so by itself).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "profile_ext.h"

#define N_INSERT_ARGS (PE_F__COUNT - PE_F_USERNAME + 6)

static SavedPlan insert_plan = {NULL, N_INSERT_ARGS};

static SavedPlan probe_plan = {
	"SELECT"
	" EXISTS (SELECT FROM profile_data.profiles WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND pg_catalog.lower(username) OPERATOR(pg_catalog.=) pg_catalog.lower($2)"
	"   AND ($5 IS NULL OR id OPERATOR(pg_catalog.<>) $5)),"
	" EXISTS (SELECT FROM profile_data.profiles WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND pg_catalog.lower(email) OPERATOR(pg_catalog.=) pg_catalog.lower($3)"
	"   AND ($5 IS NULL OR id OPERATOR(pg_catalog.<>) $5)),"
	" EXISTS (SELECT FROM profile_data.profiles WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND mobile_phone_number OPERATOR(pg_catalog.=) $4"
	"   AND ($5 IS NULL OR id OPERATOR(pg_catalog.<>) $5))",
	5, {INT8OID, TEXTOID, TEXTOID, TEXTOID, UUIDOID}
};

/*
 * The insert statement, built once from the field table:
 * tenant_id, id, state, every field column, verified, created_at,
 * updated_at.
 */
static void
build_insert_plan(void)
{
	StringInfoData cols,
				vals;
	int			n = 0;

	if (insert_plan.sql)
		return;
	initStringInfo(&cols);
	initStringInfo(&vals);
	appendStringInfoString(&cols, "tenant_id, id, state");
	insert_plan.argtypes[n++] = INT8OID;
	insert_plan.argtypes[n++] = UUIDOID;
	insert_plan.argtypes[n++] = TEXTOID;
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		appendStringInfo(&cols, ", %s", profile_field_column(f));
		insert_plan.argtypes[n++] = profile_field_type(f);
	}
	appendStringInfoString(&cols, ", verified, created_at, updated_at");
	insert_plan.argtypes[n++] = BOOLOID;
	insert_plan.argtypes[n++] = TIMESTAMPTZOID;
	insert_plan.argtypes[n++] = TIMESTAMPTZOID;
	Assert(n == N_INSERT_ARGS);
	for (int i = 1; i <= n; i++)
		appendStringInfo(&vals, i > 1 ? ", $%d" : "$%d", i);
	insert_plan.sql = MemoryContextStrdup(TopMemoryContext,
										  psprintf("INSERT INTO profile_data.profiles (%s)"
												   " VALUES (%s) ON CONFLICT DO NOTHING",
												   cols.data, vals.data));
}

/*
 * Insert the row; false if a unique key is taken.  fresh: the id was just
 * made, so no audit chain exists for it yet.  The audit context stays set
 * for the caller's further events; the caller clears it when done (and
 * when it fails: see the API functions' PG_CATCH).
 */
bool
profile_insert_row(ApiCall *ctx, const ProfileRow *row, bool fresh)
{
	Datum		values[N_INSERT_ARGS];
	char		nulls[N_INSERT_ARGS];
	int			n = 0;

	build_insert_plan();
	memset(nulls, ' ', sizeof(nulls));
	values[n++] = Int64GetDatum(row->tenant_id);
	values[n++] = UUIDPGetDatum(&row->id);
	values[n++] = CStringGetTextDatum(row->incomplete ? "incomplete" : "complete");
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++, n++)
	{
		values[n] = row->values[f];
		if (row->isnull[f])
			nulls[n] = 'n';
	}
	values[n++] = BoolGetDatum(row->verified);
	values[n++] = TimestampTzGetDatum(row->created_at);
	values[n++] = TimestampTzGetDatum(row->updated_at);

	profile_audit_set_context(ctx, row->tenant_id, &row->id, fresh);
	profile_exec(&insert_plan, values, nulls, false, 0);
	return SPI_processed == 1;
}

/*
 * Which of username, email and phone (values indexed by PeField) does
 * another profile of the tenant hold?  NULL if none; exclude: the row
 * itself, for an update.  SPI must be connected.
 */
const char *
profile_taken_field(int64 tenant_id, const Datum *values, const bool *isnull,
					const pg_uuid_t *exclude)
{
	static const PeField probed[] = {PE_F_USERNAME, PE_F_EMAIL, PE_F_PHONE};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	args[0] = Int64GetDatum(tenant_id);
	for (int i = 0; i < 3; i++)
	{
		args[i + 1] = values[probed[i]];
		if (isnull[probed[i]])
			nulls[i + 1] = 'n';
	}
	args[4] = exclude ? UUIDPGetDatum(exclude) : (Datum) 0;
	nulls[4] = exclude ? ' ' : 'n';
	profile_exec(&probe_plan, args, nulls, false, 1);
	for (int i = 0; i < 3; i++)
	{
		bool		null;

		if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, i + 1, &null)))
			return pe_fields[probed[i]].name;
	}
	return NULL;
}

/* Replace the clear-text password of a checked row by its Argon2id hash. */
void
profile_hash_row_password(ProfileRow *row)
{
	text	   *pw = DatumGetTextPP(row->values[PE_F_PASSWORD]);

	row->values[PE_F_PASSWORD] =
		CStringGetTextDatum(profile_hash_password(VARDATA_ANY(pw), VARSIZE_ANY_EXHDR(pw)));
}

/* The tenant's wizard URL with every "{id}" replaced by the profile id. */
char	   *
profile_wizard_url(const char *template, const pg_uuid_t *id)
{
	StringInfoData buf;
	const char *idtext = profile_uuid_text(id);
	const char *p = template;
	const char *hit;

	initStringInfo(&buf);
	while ((hit = strstr(p, "{id}")) != NULL)
	{
		appendBinaryStringInfo(&buf, p, hit - p);
		appendStringInfoString(&buf, idtext);
		p = hit + 4;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

/* Check everything, store the profile, return its document. */
static Jsonb *
create_profile_internal(Jsonb *payload)
{
	ApiCall		ctx;
	ProfileInput in;
	ProfileRow	row;
	FieldErrors errs;
	const char *verification_url = NULL;
	Jsonb	   *result;

	profile_call_open(&ctx, "create_profile()", payload, &in);

	/* fields, then completeness; all errors together */
	errs = in.errs;
	memset(&row, 0, sizeof(row));
	profile_check_fields(&in, ctx.tenant, &row, &errs, true);
	profile_check_complete(&in, ctx.tenant, &errs, &row.incomplete);
	if (ctx.tenant->verification)
	{
		verification_url = profile_verification_base(ctx.tenant, &in);
		if (verification_url == NULL)
			profile_add_error(&errs, "verificationUrl", "required",
							  "is required when the tenant verifies new profiles and has no verification_url");
	}
	if (errs.count > 0)
		profile_raise_validation(&ctx.trace_id, &errs);

	if (!row.isnull[PE_F_PASSWORD])
		profile_hash_row_password(&row);

	row.tenant_id = ctx.tenant->id;
	row.tenant_name = ctx.tenant->name;
	profile_uuid_v7(&row.id);
	row.verified = false;
	if (ctx.tenant->verification)
	{
		/* unverified and disabled until the link is followed */
		row.values[PE_F_ENABLED] = BoolGetDatum(false);
		row.isnull[PE_F_ENABLED] = false;
	}
	row.created_at = row.updated_at = ctx.now;
	row.first_login_at = row.last_login_at = DT_NOBEGIN;
	if (row.incomplete)
	{
		row.wizard_url = profile_wizard_url(ctx.tenant->wizard_url, &row.id);
		row.message = "profile stored as incomplete; continue at wizard_url";
	}
	else
		row.message = "profile created";

	if (!profile_insert_row(&ctx, &row, true))
	{
		const char *field = profile_taken_field(row.tenant_id, row.values, row.isnull, NULL);

		if (field == NULL)
			field = "id";
		profile_raise(PE_E_PROFILE_EXISTS, &ctx.trace_id, NULL, field,
					  "a profile with this %s already exists", field);
	}

	if (ctx.tenant->verification)
		profile_issue_verification(&ctx, &row, verification_url);
	profile_audit_clear_context();
	ctx.http_status = row.incomplete ? 202 : 201;
	result = profile_result(&row, &ctx);
	profile_call_end(&ctx);
	return result;
}

/* The body of create_profile, for profile_api_call. */
static Jsonb *
create_profile_body(FunctionCallInfo fcinfo)
{
	return create_profile_internal(PG_GETARG_JSONB_P(0));
}

PG_FUNCTION_INFO_V1(create_profile);

/* profile.create_profile(jsonb) RETURNS jsonb */
Datum
create_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, create_profile_body));
}
