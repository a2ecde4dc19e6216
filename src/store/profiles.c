/*-------------------------------------------------------------------------
 *
 * src/store/profiles.c
 *		Writing profiles: the statements every path uses to store, read back
 *		and change a profile row, and the uniqueness probe.
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
 * retry (PostgREST does so by itself).  An update probes before it writes;
 * a concurrent writer that gets past the probe meets the unique index,
 * whose violation the API turns into the same PROFILE_EXISTS
 * (base/errors.c).
 *
 * Audit.  profile_insert_row and profile_update_row set the audit context
 * (audit/audit.c) for the row they write; the caller clears it when its
 * writes are done.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "base/errors.h"
#include "base/json.h"
#include "store/profiles.h"

#define N_INSERT_ARGS (PE_F__COUNT - PE_F_USERNAME + 6)
#define N_UPDATE_ARGS (PE_F__COUNT - PE_F_USERNAME + 5)

static SavedPlan insert_plan = {NULL, N_INSERT_ARGS};
static SavedPlan update_plan = {NULL, N_UPDATE_ARGS};

static SavedPlan select_plan = {
	"SELECT * FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2"
	" FOR UPDATE",
	2, {INT8OID, UUIDOID}
};

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
profile_insert_row(const ApiCall *ctx, const ProfileRow *row, bool fresh)
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

	profile_audit_set_context(&ctx->trace_id, ctx->client, row->tenant_id, &row->id, fresh);
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

/*
 * PROFILE_EXISTS if another profile of the tenant holds the row's
 * username, email or phone (exclude: the row itself, for an update); else,
 * if fallback is given, PROFILE_EXISTS for that field (an insert that met a
 * unique key the probe does not cover: the id).
 */
void
profile_raise_if_taken(const pg_uuid_t *trace_id, int64 tenant_id,
					   const Datum *values, const bool *isnull,
					   const pg_uuid_t *exclude, const char *fallback)
{
	const char *field = profile_taken_field(tenant_id, values, isnull, exclude);

	if (field == NULL)
		field = fallback;
	if (field != NULL)
		profile_raise_taken(trace_id, field);
}

/*
 * The profile (tenant_id, id), locked FOR UPDATE, into row; false if the
 * tenant holds no such profile.  Unchanged values point into SPI's result:
 * use row before profile_owner_end.
 */
bool
profile_select_for_update(int64 tenant_id, const pg_uuid_t *id, ProfileRow *row)
{
	Datum		args[2];

	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(id);
	profile_exec(&select_plan, args, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	memset(row, 0, sizeof(*row));
	profile_row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

/* UPDATE ... SET state, every field column, verified, updated_at; built once. */
static void
build_update_plan(void)
{
	StringInfoData sql;
	int			n = 0;

	if (update_plan.sql)
		return;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "UPDATE profile_data.profiles SET state = $3");
	update_plan.argtypes[n++] = INT8OID;
	update_plan.argtypes[n++] = UUIDOID;
	update_plan.argtypes[n++] = TEXTOID;
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		update_plan.argtypes[n] = profile_field_type(f);
		appendStringInfo(&sql, ", %s = $%d", profile_field_column(f), ++n);
	}
	update_plan.argtypes[n] = BOOLOID;
	appendStringInfo(&sql, ", verified = $%d", ++n);
	update_plan.argtypes[n] = TIMESTAMPTZOID;
	appendStringInfo(&sql, ", updated_at = $%d", ++n);
	appendStringInfoString(&sql, " WHERE tenant_id OPERATOR(pg_catalog.=) $1"
						   " AND id OPERATOR(pg_catalog.=) $2");
	Assert(n == N_UPDATE_ARGS);
	update_plan.sql = MemoryContextStrdup(TopMemoryContext, sql.data);
}

/*
 * Write every column of row back (state, fields, verified, updated_at);
 * the trigger records the changes as one event.
 */
void
profile_update_row(const ApiCall *ctx, const ProfileRow *row)
{
	Datum		args[N_UPDATE_ARGS];
	char		nulls[N_UPDATE_ARGS];
	int			n = 0;

	build_update_plan();
	memset(nulls, ' ', sizeof(nulls));
	args[n++] = Int64GetDatum(row->tenant_id);
	args[n++] = UUIDPGetDatum(&row->id);
	args[n++] = CStringGetTextDatum(row->incomplete ? "incomplete" : "complete");
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++, n++)
	{
		args[n] = row->values[f];
		if (row->isnull[f])
			nulls[n] = 'n';
	}
	args[n++] = BoolGetDatum(row->verified);
	args[n++] = TimestampTzGetDatum(row->updated_at);
	profile_audit_set_context(&ctx->trace_id, ctx->client, row->tenant_id, &row->id, false);
	if (profile_exec(&update_plan, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update profile");
}
