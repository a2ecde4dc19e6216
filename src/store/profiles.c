/*-------------------------------------------------------------------------
 *
 * src/store/profiles.c
 *		Writing profiles: the statements every path uses to store, read back
 *		and change a profile row, and the uniqueness probe.
 *
 * Uniqueness.  Username, email (both case-insensitively) and phone are
 * unique per tenant through unique indexes.  One profile is stored with a
 * plain INSERT: a concurrent insert of the same value makes it wait for
 * the other transaction, and then either insert (the other rolled back)
 * or meet the unique index (it committed), whose violation becomes
 * PROFILE_EXISTS naming the field of the index (base/errors.c) -- cheaper
 * than ON CONFLICT, which probes every unique index before inserting and
 * writes one more WAL record.  A batch (profile_insert_rows) goes in the
 * same way, all rows in one plain INSERT, in a subtransaction; if one of
 * its rows is taken, the subtransaction is rolled back and the batch
 * inserted again with INSERT ... ON CONFLICT DO NOTHING with no arbiter,
 * covering every unique index, which leaves out the rows that are taken;
 * one more probe names the field of each.  An update probes before it writes;
 * a concurrent writer that gets past the probe meets the unique index, as
 * an insert does.
 *
 * Audit.  profile_insert_row and profile_update_row set the audit context
 * (audit/audit.c) for the row they write; the caller clears it when its
 * writes are done.  profile_insert_row records the new row's
 * profile.created event itself, from the values it wrote (the trigger
 * would rebuild them from the stored row and probe for the chain's head,
 * which a new profile does not have).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "catalog/cache.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/rowinsert.h"
#include "store/profiles.h"
#include "store/verification.h"

#define N_INSERT_ARGS (PE_F__COUNT - PE_F_USERNAME + 7 + PROFILE_N_KEYS)
#define N_UPDATE_ARGS (PE_F__COUNT - PE_F_USERNAME + 6 + PROFILE_N_KEYS)

static SavedPlan insert_plan = {NULL, N_INSERT_ARGS};

/* The same row, inserted without a statement where the table allows it */
static const char *insert_columns[N_INSERT_ARGS];
static RowTable profile_rows = {"profiles", N_INSERT_ARGS, insert_columns, insert_plan.argtypes};

/*
 * Many new profiles of one tenant in one statement (create_profiles), where
 * they cannot go in without one, or one of them is taken: the rows travel
 * as one array of profile_data.profiles' row type, unnested into the
 * insert columns, and a row whose username, email or phone another profile
 * holds is left out by ON CONFLICT DO NOTHING.  Built with insert_plan.
 */
static SavedPlan insert_rows_plan = {NULL, 1, {InvalidOid}};

/* profile_data.profile_ids, for claims made without a statement */
static const char *const id_columns[] = {"id", "tenant_id", "claimed_at"};
static const Oid id_types[] = {UUIDOID, INT8OID, TIMESTAMPTZOID};
static RowTable id_rows = {"profile_ids", lengthof(id_columns), id_columns, id_types};
static SavedPlan update_plan = {NULL, N_UPDATE_ARGS};

static SavedPlan select_plan = {
	"SELECT * FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2"
	" FOR UPDATE",
	2, {INT8OID, UUIDOID}
};

static SavedPlan read_plan = {
	"SELECT * FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, UUIDOID}
};

/* find_profile: by the keys uniqueness uses (README, "Identity") */
static SavedPlan find_username_plan = {
	"SELECT * FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" AND (username_key OPERATOR(pg_catalog.=) $2"
	"      OR username_skeleton OPERATOR(pg_catalog.=) $3"
	"      OR username_shape OPERATOR(pg_catalog.=) $4)"
	" LIMIT 3",
	4, {INT8OID, TEXTOID, TEXTOID, TEXTOID}
};

static SavedPlan find_email_plan = {
	"SELECT * FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND email_key OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, TEXTOID}
};

static SavedPlan find_phone_plan = {
	"SELECT * FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND phone_key OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, TEXTOID}
};

/*
 * A DELETE carries no row to mark: the mark goes on the row first, by an
 * update that changes nothing else (and records nothing).
 */
static SavedPlan mark_plan = {
	"UPDATE profile_data.profiles SET api_mark = $3"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
	3, {INT8OID, UUIDOID, TEXTOID}
};

static SavedPlan delete_plan = {
	"DELETE FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, UUIDOID}
};

/* the tenant of a profile id, and whether the profile was erased */
static SavedPlan id_tenant_plan = {
	"SELECT tenant_id, erased_at IS NOT NULL FROM profile_data.profile_ids"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static SavedPlan mark_erased_plan = {
	"UPDATE profile_data.profile_ids SET erased_at = $2"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, TIMESTAMPTZOID}
};

/* erasure: the upgrade's list of conflicts forgets the profile */
static SavedPlan conflicts_shrink_plan = {
	"UPDATE profile_data.identity_conflicts"
	"   SET profile_ids = pg_catalog.array_remove(profile_ids, $2)"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND profile_ids OPERATOR(pg_catalog.@>) ARRAY[$2]"
	"   AND pg_catalog.cardinality(profile_ids) OPERATOR(pg_catalog.>) 2",
	2, {INT8OID, UUIDOID}
};

static SavedPlan conflicts_drop_plan = {
	"DELETE FROM profile_data.identity_conflicts"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND profile_ids OPERATOR(pg_catalog.@>) ARRAY[$2]",
	2, {INT8OID, UUIDOID}
};

static SavedPlan probe_plan = {
	"SELECT"
	" EXISTS (SELECT FROM profile_data.profiles WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND username_key OPERATOR(pg_catalog.=) $2"
	"   AND ($7 IS NULL OR id OPERATOR(pg_catalog.<>) $7)),"
	" EXISTS (SELECT FROM profile_data.profiles WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND username_skeleton OPERATOR(pg_catalog.=) $3"
	"   AND ($7 IS NULL OR id OPERATOR(pg_catalog.<>) $7)),"
	" EXISTS (SELECT FROM profile_data.profiles WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND username_shape OPERATOR(pg_catalog.=) $4"
	"   AND ($7 IS NULL OR id OPERATOR(pg_catalog.<>) $7)),"
	" EXISTS (SELECT FROM profile_data.profiles WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND email_key OPERATOR(pg_catalog.=) $5"
	"   AND ($7 IS NULL OR id OPERATOR(pg_catalog.<>) $7)),"
	" EXISTS (SELECT FROM profile_data.profiles WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND phone_key OPERATOR(pg_catalog.=) $6"
	"   AND ($7 IS NULL OR id OPERATOR(pg_catalog.<>) $7))",
	7, {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, UUIDOID}
};

/*
 * Profile ids are unique across tenants (contract §1): each is claimed in
 * profile_data.profile_ids, keyed by the id alone, in the transaction that
 * stores the profile.  Of two transactions that claim one id at once, the
 * second waits on the primary key and then finds it taken.  An id stays
 * claimed after its profile is deleted or erased: ids are never reused.
 */
static SavedPlan claim_id_plan = {
	"INSERT INTO profile_data.profile_ids (id, tenant_id, claimed_at) VALUES ($1, $2, $3)"
	" ON CONFLICT (id) DO NOTHING",
	3, {UUIDOID, INT8OID, TIMESTAMPTZOID}
};

/*
 * Usernames of a tenant whose UTS #39 skeletons are equal, grouped: what a
 * switch to username_uniqueness "confusable" would have to refuse.  Rows
 * an upgrade listed as colliding (their username_key left null) take no
 * part; they stay listed in profile_data.identity_conflicts.
 */
static SavedPlan skeleton_groups_plan = {
	"SELECT ids FROM ("
	" SELECT pg_catalog.array_to_string("
	"   pg_catalog.array_agg(id ORDER BY created_at, id), ', ') AS ids,"
	"   pg_catalog.min(created_at) AS first"
	"  FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND username_key IS NOT NULL"
	" GROUP BY profile_data.username_skeleton(username_key)"
	" HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1"
	" UNION"
	" SELECT pg_catalog.array_to_string("
	"   pg_catalog.array_agg(id ORDER BY created_at, id), ', '),"
	"   pg_catalog.min(created_at)"
	"  FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND username_key IS NOT NULL"
	" GROUP BY profile_data.username_shape(username)"
	" HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1) g"
	" ORDER BY first, ids"
	" LIMIT $2",
	2, {INT8OID, INT4OID}
};

/*
 * The tenant whose usernames profile_rekey_usernames is rekeying: the row
 * trigger skips its uniqueness probe for them (the switch checked the
 * whole tenant first, the unique indexes hold anyway), which would cost a
 * probe of the tenant per row.
 */
static int64 rekeying_tenant = -1;

bool
profile_rekeying(int64 tenant_id)
{
	return rekeying_tenant == tenant_id;
}

/* Every username of a tenant again, so that the row trigger rekeys it. */
static SavedPlan rekey_usernames_plan = {
	"UPDATE profile_data.profiles SET username = username"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND username_key IS NOT NULL",
	1, {INT8OID}
};

/*
 * The insert statement, built once from the field table:
 * tenant_id, id, state, every field column, verified, created_at,
 * updated_at, the keys, api_mark.
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
	insert_columns[n] = "tenant_id";
	insert_plan.argtypes[n++] = INT8OID;
	insert_columns[n] = "id";
	insert_plan.argtypes[n++] = UUIDOID;
	insert_columns[n] = "state";
	insert_plan.argtypes[n++] = TEXTOID;
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		insert_columns[n] = profile_field_column(f);
		insert_plan.argtypes[n++] = profile_field_type(f);
	}
	insert_columns[n] = "verified";
	insert_plan.argtypes[n++] = BOOLOID;
	insert_columns[n] = "created_at";
	insert_plan.argtypes[n++] = TIMESTAMPTZOID;
	insert_columns[n] = "updated_at";
	insert_plan.argtypes[n++] = TIMESTAMPTZOID;
	for (int k = 0; k < PROFILE_N_KEYS; k++)
	{
		insert_columns[n] = profile_key_columns[k];
		insert_plan.argtypes[n++] = TEXTOID;
	}
	insert_columns[n] = "api_mark";
	insert_plan.argtypes[n++] = TEXTOID;
	Assert(n == N_INSERT_ARGS);
	for (int i = 1; i <= n; i++)
	{
		appendStringInfo(&cols, i > 1 ? ", %s" : "%s", insert_columns[i - 1]);
		appendStringInfo(&vals, i > 1 ? ", $%d" : "$%d", i);
	}
	insert_plan.sql = MemoryContextStrdup(TopMemoryContext,
										  psprintf("INSERT INTO profile_data.profiles (%s)"
												   " VALUES (%s)",
												   cols.data, vals.data));
	/* the same columns out of rows of the table's type; the others default */
	insert_rows_plan.sql = MemoryContextStrdup(TopMemoryContext,
											   psprintf("INSERT INTO profile_data.profiles (%s)"
														" SELECT %s FROM pg_catalog.unnest($1)"
														" ON CONFLICT DO NOTHING",
														cols.data, cols.data));
}

/*
 * A new row as its profile.created event shows it (audit/trigger.c,
 * profile_row_document): every column the insert gives a value, but the
 * password hash, the keys, the mark, and the tenant and id (the event's
 * own).
 */
static Jsonb *
created_document(const ProfileRow *row)
{
	/* the columns that are not fields: key PE_F__COUNT + C_* */
	enum
	{
		C_STATE, C_VERIFIED, C_CREATED_AT, C_UPDATED_AT, C__COUNT
	};
	static const char *const other_columns[C__COUNT] = {
		"state", "verified", "created_at", "updated_at"
	};
	static int	order[PE_F__COUNT + C__COUNT];
	static int	nkeys = -1;
	JsonbParseState *st = NULL;

	if (nkeys < 0)
	{
		const char *names[PE_F__COUNT + C__COUNT] = {0};

		for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
			if (f != PE_F_PASSWORD)
				names[f] = profile_field_column(f);
		for (int c = 0; c < C__COUNT; c++)
			names[PE_F__COUNT + c] = other_columns[c];
		nkeys = profile_jsonb_key_order(names, PE_F__COUNT + C__COUNT, order);
	}

	/* in jsonb's order of keys, computed once */
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < nkeys; i++)
	{
		int			f = order[i];

		if (f < PE_F__COUNT)
		{
			if (!row->isnull[f])
				profile_push_datum(&st, profile_field_column(f), row->values[f],
								   profile_field_type(f));
			continue;
		}
		switch (f - PE_F__COUNT)
		{
			case C_STATE:
				profile_push_text(&st, "state", row->incomplete ? "incomplete" : "complete");
				break;
			case C_VERIFIED:
				profile_push_bool(&st, "verified", row->verified);
				break;
			case C_CREATED_AT:
				profile_push_timestamp(&st, "created_at", row->created_at);
				break;
			case C_UPDATED_AT:
				profile_push_timestamp(&st, "updated_at", row->updated_at);
				break;
		}
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/* A new row as the insert's values (insert_columns), marked with mark. */
static void
insert_values(const ProfileRow *row, Datum mark, Datum *values, char *nulls)
{
	int			n = 0;

	build_insert_plan();
	memset(nulls, ' ', N_INSERT_ARGS);
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
	for (int k = 0; k < PROFILE_N_KEYS; k++, n++)
	{
		values[n] = row->keys[k];
		if (row->keynull[k])
			nulls[n] = 'n';
	}
	values[n++] = mark;
	Assert(n == N_INSERT_ARGS);
}

/*
 * Claim a new profile's id without a statement; false if the table needs
 * one.  An id taken is a unique violation (profile_ids_pkey).
 */
static bool
claim_new_id(const pg_uuid_t *id, int64 tenant_id, TimestampTz now)
{
	Datum		values[3];

	values[0] = UUIDPGetDatum(id);
	values[1] = Int64GetDatum(tenant_id);
	values[2] = TimestampTzGetDatum(now);
	return profile_row_insert(&id_rows, values, NULL);
}

/*
 * The profile.created event of a row the call stored: doc is the row as
 * the event shows it (created_document).
 */
void
profile_created_event(const ApiCall *ctx, const ProfileRow *row, Jsonb *doc,
					  AuditEvent *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->tenant_id = row->tenant_id;
	ev->profile_id = row->id;
	ev->recorded_at = ev->occurred_at = ctx->now;
	ev->client = ctx->client;
	ev->source = "db";
	ev->event = "profile.created";
	ev->trace_id = &ctx->trace_id;
	ev->data = doc;
}

/*
 * Store a new profile: insert the row, marked as the call's, claim its id
 * and record its profile.created event (the first of its chain: the id is
 * new).  On one server the rows go into the tables without statements
 * where the tables allow it (base/rowinsert.c); on Citus, which runs the
 * rows' statements on the nodes that hold them, through statements.  A
 * unique key another profile holds -- its username, email or phone, or
 * the id -- raises PROFILE_EXISTS naming the field.  The audit context
 * stays set for the caller's further events; the caller clears it when
 * done (and when it fails: see the API functions' PG_CATCH).
 */
void
profile_insert_row(const ApiCall *ctx, const ProfileRow *row)
{
	Datum		values[N_INSERT_ARGS];
	char		nulls[N_INSERT_ARGS];
	MemoryContext cxt = CurrentMemoryContext;
	AuditEvent	ev;
	bool		direct = !profile_citus();

	insert_values(row, CStringGetTextDatum(profile_audit_mark(&ctx->trace_id, ctx->client,
															  AUDIT_MARK_OWN_EVENTS)),
				  values, nulls);

	profile_created_event(ctx, row, created_document(row), &ev);

	profile_audit_set_context(row->tenant_id, &row->id);
	PG_TRY();
	{
		if (!(direct && profile_row_insert(&profile_rows, values, nulls)))
		{
			profile_exec(&insert_plan, values, nulls, false, 0);
			if (SPI_processed != 1)
				profile_raise_row_skipped("profiles");
		}
		if (!(direct && claim_new_id(&row->id, row->tenant_id, ctx->now)) &&
			!profile_claim_id(&row->id, row->tenant_id, ctx->now))
			profile_raise_taken(&ctx->trace_id, "id");
		profile_audit_append_first(&ev);
	}
	PG_CATCH();
	{
		profile_rethrow_unique_as_exists_traced(cxt, &ctx->trace_id, true);
	}
	PG_END_TRY();
}

/*
 * Store rows[0..n-1] without a statement (base/rowinsert.c) and without ON
 * CONFLICT, which probes every unique index before each row goes in, in a
 * subtransaction: true if all went in; false, with nothing written, if one
 * met a unique key another profile holds, or if the table needs a
 * statement.  Any other error is the caller's.
 */
static bool
insert_all_rows(ProfileRow **rows, int n, Datum mark)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool stored = false;

	build_insert_plan();		/* and profile_rows' columns */
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		RowWriter	w;

		if (profile_rows_begin(&profile_rows, &w))
		{
			for (int i = 0; i < n; i++)
			{
				Datum		values[N_INSERT_ARGS];
				char		nulls[N_INSERT_ARGS];

				CHECK_FOR_INTERRUPTS();
				insert_values(rows[i], mark, values, nulls);
				profile_rows_put(&w, values, nulls);
			}
			profile_rows_end(&w);
			stored = true;
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* the subtransaction goes first, whatever the error */
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return stored;
}

/*
 * Which of the new ids were stored: asked afterwards, since Citus cannot
 * return rows from an INSERT ... SELECT it runs through the coordinator.
 * The ids are new, so a row with one is the row just inserted.
 */
static SavedPlan stored_ids_plan = {
	"SELECT id FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) ANY ($2)",
	2, {INT8OID, UUIDARRAYOID}
};

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(pg_uuid_t));
}

/*
 * Insert rows[0..n-1], marked with mark, in one statement (insert_rows_plan)
 * that leaves out the rows that are taken; inserted[i]: row i was stored.
 * The rows travel as the table's row type: each insert column must be
 * there with the type the API writes (a statement would convert; a row
 * value of another type would be read as what it is not).
 */
static void
insert_rows_statement(ProfileRow **rows, int n, Datum mark, bool *inserted)
{
	Oid			rowtype = get_rel_type_id(profile_profiles_relid());
	Oid			arraytype = get_array_type(rowtype);
	TupleDesc	desc = lookup_rowtype_tupdesc_copy(rowtype, -1);
	int			att[N_INSERT_ARGS];
	Datum	   *elems = palloc(sizeof(Datum) * n);
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	pg_uuid_t  *stored;
	int			nstored;
	Datum		arg;
	Datum		args[2];

	build_insert_plan();
	for (int i = 0; i < N_INSERT_ARGS; i++)
	{
		att[i] = SPI_fnumber(desc, insert_columns[i]) - 1;
		if (att[i] < 0)
			elog(ERROR, "table \"profile_data.profiles\" lacks column \"%s\" of profile_ext %s",
				 insert_columns[i], PROFILE_EXT_VERSION);
		if (TupleDescAttr(desc, att[i])->atttypid != insert_plan.argtypes[i])
			ereport(ERROR,
					errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("column \"%s\" of table \"profile_data.profiles\" is of type %s, not %s",
						   insert_columns[i], format_type_be(TupleDescAttr(desc, att[i])->atttypid),
						   format_type_be(insert_plan.argtypes[i])),
					errdetail("create_profiles stores its rows as the table's row type."));
	}

	for (int i = 0; i < n; i++)
	{
		Datum		row_values[N_INSERT_ARGS];
		char		row_nulls[N_INSERT_ARGS];
		HeapTuple	tup;

		CHECK_FOR_INTERRUPTS();
		insert_values(rows[i], mark, row_values, row_nulls);
		for (int a = 0; a < desc->natts; a++)
			nulls[a] = true;
		for (int c = 0; c < N_INSERT_ARGS; c++)
		{
			values[att[c]] = row_values[c];
			nulls[att[c]] = row_nulls[c] == 'n';
		}
		tup = heap_form_tuple(desc, values, nulls);
		elems[i] = heap_copy_tuple_as_datum(tup, desc);
		heap_freetuple(tup);
	}

	arg = PointerGetDatum(construct_array(elems, n, rowtype, -1, false, TYPALIGN_DOUBLE));

	/*
	 * the plan knows the array type's OID: a new CREATE EXTENSION makes
	 * another
	 */
	if (insert_rows_plan.plan && insert_rows_plan.argtypes[0] != arraytype)
	{
		SPI_freeplan(insert_rows_plan.plan);
		insert_rows_plan.plan = NULL;
	}
	insert_rows_plan.argtypes[0] = arraytype;
	profile_exec(&insert_rows_plan, &arg, NULL, false, 0);

	for (int i = 0; i < n; i++)
		elems[i] = UUIDPGetDatum(&rows[i]->id);
	args[0] = Int64GetDatum(rows[0]->tenant_id);
	args[1] = PointerGetDatum(construct_array(elems, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	profile_exec(&stored_ids_plan, args, NULL, false, 0);

	nstored = (int) SPI_processed;
	stored = palloc(sizeof(pg_uuid_t) * Max(nstored, 1));
	for (int i = 0; i < nstored; i++)
		stored[i] = *DatumGetUUIDP(profile_spi_required(i, 1, "profiles"));
	qsort(stored, nstored, sizeof(pg_uuid_t), id_cmp);
	for (int i = 0; i < n; i++)
		inserted[i] = bsearch(&rows[i]->id, stored, nstored, sizeof(pg_uuid_t), id_cmp) != NULL;
}

/*
 * Insert rows[0..n-1], new profiles of one tenant; inserted[i]: row i was
 * stored.  docs[i]: row i as its profile.created event shows it
 * (audit/trigger.c), for profile_audit_append_firsts: the rows are marked
 * as rows whose events the call records itself.
 */
void
profile_insert_rows(const ApiCall *ctx, ProfileRow **rows, int n, bool *inserted,
					Jsonb **docs)
{
	Datum		mark = CStringGetTextDatum(profile_audit_mark(&ctx->trace_id, ctx->client,
															  AUDIT_MARK_OWN_EVENTS));

	for (int i = 0; i < n; i++)
		docs[i] = created_document(rows[i]);

	/*
	 * On one server, all rows at once, as one profile goes in; if one of them
	 * is taken (rare in an import), again with ON CONFLICT.  (Citus cannot
	 * roll back a subtransaction whose writes failed on a worker.)
	 */
	if (!profile_citus() && insert_all_rows(rows, n, mark))
	{
		for (int i = 0; i < n; i++)
			inserted[i] = true;
		return;
	}
	insert_rows_statement(rows, n, mark, inserted);
}

/*
 * Which of username, email and phone (by their keys, profile_identity_keys)
 * does another profile of the tenant hold?  NULL if none; exclude: the row
 * itself, for an update.  SPI must be connected.
 */
const char *
profile_taken_field(int64 tenant_id, const ProfileRow *row,
					const pg_uuid_t *exclude)
{
	Datum		args[2 + PROFILE_N_KEYS];
	char		nulls[2 + PROFILE_N_KEYS];

	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(tenant_id);
	for (int k = 0; k < PROFILE_N_KEYS; k++)
	{
		args[k + 1] = row->keys[k];
		nulls[k + 1] = row->keynull[k] ? 'n' : ' ';
	}
	args[1 + PROFILE_N_KEYS] = exclude ? UUIDPGetDatum(exclude) : (Datum) 0;
	nulls[1 + PROFILE_N_KEYS] = exclude ? ' ' : 'n';
	profile_exec(&probe_plan, args, nulls, false, 1);
	for (int k = 0; k < PROFILE_N_KEYS; k++)
		if (DatumGetBool(profile_spi_required(0, k + 1, "profiles")))
			return profile_key_fields[k];
	return NULL;
}

static SavedPlan claim_ids_plan = {
	"INSERT INTO profile_data.profile_ids (id, tenant_id, claimed_at)"
	" SELECT u.id, $2, $3 FROM pg_catalog.unnest($1) AS u(id)",
	3, {UUIDARRAYOID, INT8OID, TIMESTAMPTZOID}
};

/*
 * Claim the ids of new profiles of a batch (see claim_id_plan).  They were
 * just made (UUIDv7): one already taken is a broken clock or generator,
 * not a caller's error.
 */
void
profile_claim_ids(const pg_uuid_t *ids, int n, int64 tenant_id, TimestampTz now)
{
	Datum		args[3];
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	RowWriter	w;

	if (n == 0)
		return;
	/* on one server without a statement where the table allows it */
	if (!profile_citus() && profile_rows_begin(&id_rows, &w))
	{
		for (int i = 0; i < n; i++)
		{
			Datum		values[3];

			CHECK_FOR_INTERRUPTS();
			values[0] = UUIDPGetDatum(&ids[i]);
			values[1] = Int64GetDatum(tenant_id);
			values[2] = TimestampTzGetDatum(now);
			profile_rows_put(&w, values, NULL);
		}
		profile_rows_end(&w);
		return;
	}
	for (int i = 0; i < n; i++)
		elems[i] = UUIDPGetDatum(&ids[i]);
	args[0] = PointerGetDatum(construct_array(elems, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[1] = Int64GetDatum(tenant_id);
	args[2] = TimestampTzGetDatum(now);
	profile_exec(&claim_ids_plan, args, NULL, false, 0);
	if (SPI_processed != (uint64) n)
		elog(ERROR, "could not claim %d new profile ids: " UINT64_FORMAT " claimed",
			 n, SPI_processed);
}

/*
 * Give a row the keys profile_rekey offers it (reclaim[]) where no other
 * profile of the tenant holds them: a row an upgrade listed as colliding
 * gets its key at its first write after the collision was resolved.
 */
void
profile_reclaim_keys(int64 tenant_id, ProfileRow *row)
{
	for (int k = 0; k < PROFILE_N_KEYS; k++)
	{
		ProfileRow	probe;

		if (k == PROFILE_KEY_SKELETON || k == PROFILE_KEY_SHAPE || row->reclaim_null[k])
			continue;
		memset(&probe, 0, sizeof(probe));
		for (int j = 0; j < PROFILE_N_KEYS; j++)
			probe.keynull[j] = true;
		probe.keys[k] = row->reclaim[k];
		probe.keynull[k] = false;
		if (k == PROFILE_KEY_USERNAME)
		{
			probe.keys[PROFILE_KEY_SKELETON] = row->reclaim[PROFILE_KEY_SKELETON];
			probe.keynull[PROFILE_KEY_SKELETON] = row->reclaim_null[PROFILE_KEY_SKELETON];
			probe.keys[PROFILE_KEY_SHAPE] = row->reclaim[PROFILE_KEY_SHAPE];
			probe.keynull[PROFILE_KEY_SHAPE] = row->reclaim_null[PROFILE_KEY_SHAPE];
		}
		if (profile_taken_field(tenant_id, &probe, &row->id) != NULL)
			continue;
		row->keys[k] = probe.keys[k];
		row->keynull[k] = false;
		if (k == PROFILE_KEY_USERNAME)
		{
			row->keys[PROFILE_KEY_SKELETON] = probe.keys[PROFILE_KEY_SKELETON];
			row->keynull[PROFILE_KEY_SKELETON] = probe.keynull[PROFILE_KEY_SKELETON];
			row->keys[PROFILE_KEY_SHAPE] = probe.keys[PROFILE_KEY_SHAPE];
			row->keynull[PROFILE_KEY_SHAPE] = probe.keynull[PROFILE_KEY_SHAPE];
		}
	}
}

/*
 * Claim a profile id for a tenant (see claim_id_plan); false if some
 * profile, in any tenant, has it already.
 */
bool
profile_claim_id(const pg_uuid_t *id, int64 tenant_id, TimestampTz now)
{
	Datum		args[3];

	args[0] = UUIDPGetDatum(id);
	args[1] = Int64GetDatum(tenant_id);
	args[2] = TimestampTzGetDatum(now);
	profile_exec(&claim_id_plan, args, NULL, false, 0);
	return SPI_processed == 1;
}

/*
 * Up to max groups of profiles of a tenant whose usernames have equal
 * skeletons, each as its profile ids (oldest first, comma-separated) in
 * the current memory context; their number.
 */
int
profile_skeleton_groups(int64 tenant_id, char **groups, int max)
{
	Datum		args[2];
	MemoryContext cxt = CurrentMemoryContext;
	int			n;

	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int32GetDatum(max);
	profile_exec_latest(&skeleton_groups_plan, args, NULL, true, max);
	n = (int) SPI_processed;
	for (int i = 0; i < n; i++)
	{
		char	   *ids = profile_spi_text(i, 1, "profiles");

		groups[i] = MemoryContextStrdup(cxt, ids);
	}
	return n;
}

/*
 * Recompute the identity keys of every username of a tenant (after its
 * username_uniqueness changed): a no-op update of each username, which the
 * row trigger (api/rowcheck.c) rekeys, and the audit trigger leaves out
 * because only derived keys changed.  Both statements here run under a
 * lock that waited for every writer of profiles, so they see the latest
 * rows.
 */
void
profile_rekey_usernames(int64 tenant_id)
{
	Datum		arg = Int64GetDatum(tenant_id);

	rekeying_tenant = tenant_id;
	PG_TRY();
	{
		profile_exec_latest(&rekey_usernames_plan, &arg, NULL, false, 0);
	}
	PG_FINALLY();
	{
		rekeying_tenant = -1;
	}
	PG_END_TRY();
}

/*
 * PROFILE_EXISTS if another profile of the tenant holds the row's
 * username, email or phone (exclude: the row itself, for an update); else,
 * if fallback is given, PROFILE_EXISTS for that field (an insert that met a
 * unique key the probe does not cover: the id).
 */
void
profile_raise_if_taken(const pg_uuid_t *trace_id, int64 tenant_id,
					   const ProfileRow *row, const pg_uuid_t *exclude,
					   const char *fallback)
{
	const char *field = profile_taken_field(tenant_id, row, exclude);

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
	for (int k = 0; k < PROFILE_N_KEYS; k++)
	{
		update_plan.argtypes[n] = TEXTOID;
		appendStringInfo(&sql, ", %s = $%d", profile_key_columns[k], ++n);
	}
	update_plan.argtypes[n] = TEXTOID;
	appendStringInfo(&sql, ", api_mark = $%d", ++n);
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
	for (int k = 0; k < PROFILE_N_KEYS; k++, n++)
	{
		args[n] = row->keys[k];
		if (row->keynull[k])
			nulls[n] = 'n';
	}
	args[n++] = CStringGetTextDatum(profile_audit_mark(&ctx->trace_id, ctx->client, 0));
	profile_audit_set_context(row->tenant_id, &row->id);
	if (profile_exec(&update_plan, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update profile");
}

/*
 * The tenant a profile id was claimed for (any tenant: ids are unique
 * across tenants); false if no profile ever had the id.  *erased: the
 * profile was erased.  fresh: with a new snapshot, seeing what the
 * statement calling a writing function wrote before (a read-only caller
 * sees what its statement sees).
 */
bool
profile_id_tenant(const pg_uuid_t *id, int64 *tenant_id, bool *erased, bool fresh)
{
	Datum		arg = UUIDPGetDatum(id);

	profile_exec(&id_tenant_plan, &arg, NULL, !fresh, 1);
	if (SPI_processed == 0)
		return false;
	*tenant_id = DatumGetInt64(profile_spi_required(0, 1, "profile_ids"));
	*erased = DatumGetBool(profile_spi_required(0, 2, "profile_ids"));
	return true;
}

/* Read a profile (no lock); false if the tenant has no such profile. */
bool
profile_read(int64 tenant_id, const pg_uuid_t *id, ProfileRow *row)
{
	Datum		args[2];

	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(id);
	profile_exec(&read_plan, args, NULL, true, 1);
	if (SPI_processed == 0)
		return false;
	profile_row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

/*
 * The profile of the tenant whose key (ProfileKey: username, email or
 * phone) is key; a username also matches by skeleton when skeleton is
 * given (a "confusable" tenant).  false if none.
 */
bool
profile_find_by_key(int64 tenant_id, ProfileKey kind, Datum key, Datum skeleton,
					Datum shape, bool has_skeleton, ProfileRow *row)
{
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	SavedPlan  *plan;

	args[0] = Int64GetDatum(tenant_id);
	args[1] = key;
	switch (kind)
	{
		case PROFILE_KEY_USERNAME:
			plan = &find_username_plan;
			args[2] = skeleton;
			nulls[2] = has_skeleton ? ' ' : 'n';
			args[3] = shape;
			nulls[3] = has_skeleton ? ' ' : 'n';
			break;
		case PROFILE_KEY_EMAIL:
			plan = &find_email_plan;
			break;
		case PROFILE_KEY_PHONE:
			plan = &find_phone_plan;
			break;
		default:
			elog(ERROR, "profile_find_by_key: no lookup by key %d", (int) kind);
	}
	profile_exec(plan, args, nulls, true, 3);
	if (SPI_processed == 0)
		return false;
	/* a key and a skeleton of two profiles: the key's is the one */
	if (SPI_processed > 1 && kind == PROFILE_KEY_USERNAME)
	{
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			Datum		k = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
										  SPI_fnumber(SPI_tuptable->tupdesc, "username_key"),
										  &isnull);

			if (!isnull && DatumGetBool(DirectFunctionCall2(texteq, k, key)))
			{
				profile_row_from_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, row);
				return true;
			}
		}
	}
	profile_row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

/*
 * Delete a profile the caller has locked (profile_select_for_update), with
 * its verification tokens and mails; the audit trigger records
 * profile.deleted with the call's client and trace id -- or nothing, when
 * the call erases the profile (it records profile.erased itself).
 */
void
profile_delete_row(const ApiCall *ctx, const ProfileRow *row, bool erasing)
{
	Datum		args[3];

	profile_audit_set_context(row->tenant_id, &row->id);
	args[0] = Int64GetDatum(row->tenant_id);
	args[1] = UUIDPGetDatum(&row->id);
	args[2] = CStringGetTextDatum(profile_audit_mark(&ctx->trace_id, ctx->client,
													 AUDIT_MARK_DELETING |
													 (erasing ? AUDIT_MARK_ERASING : 0)));
	profile_exec(&mark_plan, args, NULL, false, 0);
	profile_exec(&delete_plan, args, NULL, false, 0);
	if (SPI_processed != 1)
		elog(ERROR, "profile %s of tenant " INT64_FORMAT " vanished while locked",
			 profile_uuid_text(&row->id), row->tenant_id);
	profile_forget_verifications(row->tenant_id, &row->id);
}

/*
 * An erased profile's id stays claimed, marked erased; the conflicts an
 * upgrade listed forget it (a group of two is no group any more), since
 * they hold its values.
 */
void
profile_mark_erased(int64 tenant_id, const pg_uuid_t *id, TimestampTz now)
{
	Datum		args[2];

	args[0] = UUIDPGetDatum(id);
	args[1] = TimestampTzGetDatum(now);
	profile_exec(&mark_erased_plan, args, NULL, false, 0);
	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(id);
	profile_exec(&conflicts_shrink_plan, args, NULL, false, 0);
	profile_exec(&conflicts_drop_plan, args, NULL, false, 0);
}
