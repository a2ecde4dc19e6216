/*-------------------------------------------------------------------------
 *
 * src/base/rowinsert.c
 *		Inserting one row through the executor without a statement: the
 *		way PostgreSQL's logical replication applies a row.
 *
 * An INSERT run through SPI costs a call more in starting and ending its
 * executor (checking the cached plan, building the projection of every
 * column, opening and closing the plan's nodes) than in storing the row.
 * profile_row_insert stores the row the way the logical replication
 * worker does (ExecSimpleRelationInsert): the table's BEFORE and AFTER
 * row triggers fire, its constraints are checked, its indexes get their
 * entries (a unique violation is the usual error), and the row is
 * WAL-logged as any other, so publications, replicas and users' own
 * triggers see it.  The statement-level INSERT triggers fire too, around
 * the row.
 *
 * What a statement would do that this does not -- rules, row-level
 * security, transition tables of statement triggers, a column default
 * other than a sequence's -- makes profile_row_insert decline (false),
 * and the caller runs its statement instead.  So does a table that is not
 * a plain table.  What a table allows is worked out on first use and
 * again after any change of the table (a relcache invalidation).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#if PG_VERSION_NUM >= 160000
#include "parser/parse_relation.h"
#endif
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "base/rowinsert.h"

#if PG_VERSION_NUM < 140000
#define F_NEXTVAL F_NEXTVAL_OID
#endif

#define MAX_ROW_TABLES 8

static RowTable *tables[MAX_ROW_TABLES];
static int	ntables = 0;
static bool callback_registered = false;

/* A change of one of our tables (or of all): work out again what it allows. */
static void
row_tables_callback(Datum arg, Oid relid)
{
	for (int i = 0; i < ntables; i++)
		if (relid == InvalidOid || tables[i]->relid == relid)
			tables[i]->valid = false;
}

/* The sequence whose nextval() is the default of rel's column attno; else InvalidOid. */
static Oid
serial_sequence(Relation rel, AttrNumber attno)
{
	Node	   *def = build_column_default(rel, attno);
	FuncExpr   *f;
	Const	   *c;

	if (def == NULL || !IsA(def, FuncExpr))
		return InvalidOid;
	f = (FuncExpr *) def;
	if (f->funcid != F_NEXTVAL || list_length(f->args) != 1 ||
		!IsA(linitial(f->args), Const))
		return InvalidOid;
	c = linitial_node(Const, f->args);
	if (c->constisnull || c->consttype != REGCLASSOID)
		return InvalidOid;
	return DatumGetObjectId(c->constvalue);
}

/* What t's table allows, and where its columns are (rel: locked). */
static void
map_table(RowTable *t, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	TriggerDesc *trig = rel->trigdesc;
	bool	   *given;

	if (t->col_att == NULL)
		t->col_att = MemoryContextAlloc(TopMemoryContext, sizeof(int) * t->ncols);
	t->serial_att = -1;
	t->serial_seq = InvalidOid;
	t->usable = rel->rd_rel->relkind == RELKIND_RELATION &&
		rel->rd_rules == NULL &&
		!rel->rd_rel->relrowsecurity &&
		!(trig && (trig->trig_insert_new_table || trig->trig_insert_instead_row));

	given = palloc0(sizeof(bool) * desc->natts);
	for (int i = 0; i < t->ncols && t->usable; i++)
	{
		int			attno = -1;

		for (int a = 0; a < desc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, a);

			if (!att->attisdropped && strcmp(NameStr(att->attname), t->cols[i]) == 0)
			{
				attno = a;
				break;
			}
		}
		/* of the type the caller's value has (a statement would convert) */
		if (attno < 0 || TupleDescAttr(desc, attno)->atttypid != t->types[i])
			t->usable = false;
		else
		{
			t->col_att[i] = attno;
			given[attno] = true;
		}
	}
	/* a column the caller does not give: null, or a sequence's next value */
	for (int a = 0; a < desc->natts && t->usable; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (given[a] || att->attisdropped)
			continue;
		if (att->attgenerated || att->attidentity ||
			get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
			t->usable = false;
		else if (att->atthasdef)
		{
			Oid			seq = serial_sequence(rel, a + 1);

			if (OidIsValid(seq) && t->serial_att < 0)
			{
				t->serial_att = a;
				t->serial_seq = seq;
			}
			else
				t->usable = false;
		}
	}
	pfree(given);
	t->natts = desc->natts;
	t->valid = true;
}

/*
 * Start writing rows into profile_data.<t->relname>, as one statement
 * would: false, with nothing done, if the table needs a statement (see
 * above), which the caller then runs.  Acts with the current user's
 * rights, without checking them: the caller is the owner.
 */
bool
profile_rows_begin(RowTable *t, RowWriter *w)
{
	RangeTblEntry *rte;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(row_tables_callback, (Datum) 0);
		callback_registered = true;
	}
	if (!t->registered)
	{
		if (ntables == MAX_ROW_TABLES)
			elog(ERROR, "too many tables for profile_rows_begin");
		tables[ntables++] = t;
		t->registered = true;
	}
	/* a statement gives a read-only transaction its proper error */
	if (XactReadOnly)
		return false;
	if (!t->valid)
		t->relid = get_relname_relid(t->relname,
									 get_namespace_oid("profile_data", false));
	if (!OidIsValid(t->relid))
		return false;
	w->t = t;
	w->rel = table_open(t->relid, RowExclusiveLock);
	/* invalidations that came with the lock are in */
	if (!t->valid)
		map_table(t, w->rel);
	if (!t->usable)
	{
		table_close(w->rel, NoLock);
		return false;
	}

	/* as a statement of SPI's would: see what came before */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	w->estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = t->relid;
	rte->relkind = RELKIND_RELATION;
	rte->rellockmode = RowExclusiveLock;
#if PG_VERSION_NUM >= 160000
	{
		List	   *perminfos = NIL;

		/* constraint errors show the row's values through it */
		addRTEPermissionInfo(&perminfos, rte);
		ExecInitRangeTable(w->estate, list_make1(rte), perminfos);
	}
#else
	ExecInitRangeTable(w->estate, list_make1(rte));
#endif
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	w->estate->es_output_cid = GetCurrentCommandId(true);
#if PG_VERSION_NUM >= 140000

	/*
	 * as the logical replication worker does: so that the AFTER triggers find
	 * the relation open, and nothing closes it twice
	 */
	w->estate->es_opened_result_relations = list_make1(w->rri);
#else
	w->estate->es_result_relations = w->rri;
	w->estate->es_num_result_relations = 1;
	w->estate->es_result_relation_info = w->rri;
#endif
	ExecOpenIndices(w->rri, false);
	AfterTriggerBeginQuery();
	w->slot = ExecInitExtraTupleSlot(w->estate, RelationGetDescr(w->rel), &TTSOpsVirtual);
	ExecBSInsertTriggers(w->estate, w->rri);
	return true;
}

/*
 * One row: values[i] (nulls[i] 'n': null; nulls NULL: none) for column
 * t->cols[i] (of type t->types[i]), every other column null (or the next
 * value of its sequence).  A row a trigger skips is an error: the API
 * stores its rows together or not at all.
 */
void
profile_rows_put(RowWriter *w, const Datum *values, const char *nulls)
{
	RowTable   *t = w->t;
	TupleTableSlot *slot = w->slot;

	ExecClearTuple(slot);
	for (int a = 0; a < t->natts; a++)
	{
		slot->tts_values[a] = (Datum) 0;
		slot->tts_isnull[a] = true;
	}
	for (int i = 0; i < t->ncols; i++)
	{
		slot->tts_values[t->col_att[i]] = values[i];
		slot->tts_isnull[t->col_att[i]] = nulls != NULL && nulls[i] == 'n';
	}
	if (t->serial_att >= 0)
	{
		slot->tts_values[t->serial_att] = Int64GetDatum(nextval_internal(t->serial_seq, true));
		slot->tts_isnull[t->serial_att] = false;
	}
	ExecStoreVirtualTuple(slot);
	ItemPointerSetInvalid(&slot->tts_tid);
#if PG_VERSION_NUM >= 140000
	ExecSimpleRelationInsert(w->rri, w->estate, slot);
#else
	ExecSimpleRelationInsert(w->estate, slot);
#endif
	/* stored, or a BEFORE trigger of the table's own returned NULL */
	if (!ItemPointerIsValid(&slot->tts_tid))
		profile_raise_row_skipped(t->relname);
	ResetPerTupleExprContext(w->estate);
}

/* The end of the rows: statement-level and queued AFTER triggers fire. */
void
profile_rows_end(RowWriter *w)
{
	ExecASInsertTriggers(w->estate, w->rri, NULL);
	AfterTriggerEndQuery(w->estate);
	ExecCloseIndices(w->rri);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	PopActiveSnapshot();
	table_close(w->rel, NoLock);
	/* as after a statement of SPI's: what follows sees the rows */
	CommandCounterIncrement();
}

/* One row, as profile_rows_begin, _put and _end would write it. */
bool
profile_row_insert(RowTable *t, const Datum *values, const char *nulls)
{
	RowWriter	w;

	if (!profile_rows_begin(t, &w))
		return false;
	profile_rows_put(&w, values, nulls);
	profile_rows_end(&w);
	return true;
}

/*
 * A BEFORE INSERT trigger of a table of profile_data returned NULL for a
 * row of the API (the profile, its claim, its event): the API stores them
 * together or not at all.
 */
void
profile_raise_row_skipped(const char *relname)
{
	ereport(ERROR,
			errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
			errmsg("a trigger on table \"profile_data.%s\" skipped a row that profile_ext must store",
				   relname),
			errhint("A BEFORE INSERT trigger on the tables of profile_data must not return NULL for the rows of the API."));
}
