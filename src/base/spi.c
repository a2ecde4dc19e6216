/*-------------------------------------------------------------------------
 *
 * src/base/spi.c
 *		Running our SQL: saved plans, reading their results, and acting as
 *		the owner of profile_data.
 *
 * Statements.  Every statement the extension runs is a SavedPlan: fixed
 * text with parameters, prepared once per backend (SPI_prepare +
 * SPI_keepplan) and revalidated by the plan cache when a table changes.
 * No statement is ever built from input.
 *
 * Results.  Rows come from our own tables, but a superuser can change them
 * behind the extension's back: profile_spi_required and profile_spi_hash
 * report a NULL where our rows never have one, or a hash of another length,
 * as a damaged row (XX001), so no C path follows a NULL pointer or reads
 * past a value.
 *
 * Acting as the owner.  The API functions are SECURITY INVOKER (they must
 * know the caller), and act as the owner of profile_data for their own
 * statements.  profile_owner_begin does what PostgreSQL does before it runs
 * a table owner's code in maintenance commands: switch to the owner's user
 * id inside a security-restricted operation and pin search_path to
 * pg_catalog, pg_temp.  Every operator and function in our statements is
 * schema-qualified besides, so nothing a caller planted -- in a schema of
 * its own first on its path, or in pg_temp -- is resolved while the
 * owner's rights are in effect.  An error unwinds both with the
 * (sub)transaction; profile_owner_end restores them on success.  The
 * owner's OID is cached and forgotten when profile_data.profiles changes
 * (relcache callback), so a new CREATE EXTENSION is followed.
 *
 * Citus.  On a Citus worker our triggers fire inside the coordinator's
 * statement on a shard, and their own statements (an audit event, the
 * claim of a new id) are distributed statements again, which Citus
 * refuses there unless citus.allow_nested_distributed_execution is on: an
 * owner section turns it on where Citus is loaded.  Citus's warning is
 * about statements that reach other nodes outside the coordinator's
 * transaction; ours keep to the tenant's colocated shards -- but for the
 * claim of an id in a direct INSERT (README, "Scaling out with Citus").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "base/spi.h"
#include "compat.h"

/* The search_path every statement of ours runs under. */
#define SAFE_SEARCH_PATH "pg_catalog, pg_temp"

#define CITUS_NESTED "citus.allow_nested_distributed_execution"

static Oid	owner_relid = InvalidOid;	/* profile_data.profiles */
static Oid	data_owner = InvalidOid;

/* Prepare a saved plan on first use. */
static SPIPlanPtr
saved_plan(SavedPlan *p)
{
	if (p->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(p->sql, p->nargs, p->argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		p->plan = plan;
	}
	return p->plan;
}

/*
 * Execute a saved plan; errors out on any SPI failure.  SPI leaves
 * CurrentMemoryContext at its procedure context, which SPI_finish frees;
 * the caller's context is restored here, so that what the caller builds
 * afterwards (its result above all) outlives SPI.
 */
int
profile_exec(SavedPlan *p, Datum *values, const char *nulls, bool read_only,
			 long count)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			rc = SPI_execute_plan(saved_plan(p), values, nulls,
									  read_only, count);

	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return rc;
}

/*
 * The same, seeing every transaction committed so far, whatever the
 * isolation level: for the caches, which outlive transactions, and for
 * work done under a lock that waited for other writers.  A write under
 * REPEATABLE READ or SERIALIZABLE is cross-checked against the
 * transaction's snapshot, so that changing a row it cannot see is a
 * serialization failure, as PostgreSQL's foreign keys do.
 */
int
profile_exec_latest(SavedPlan *p, Datum *values, const char *nulls, bool read_only,
					long count)
{
	MemoryContext cxt = CurrentMemoryContext;
	Snapshot	crosscheck = InvalidSnapshot;
	int			rc;

	if (!read_only && IsolationUsesXactSnapshot())
		crosscheck = GetTransactionSnapshot();
	rc = SPI_execute_snapshot(saved_plan(p), values, nulls, GetLatestSnapshot(),
							  crosscheck, read_only, true, count);
	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
	return rc;
}

/* A read-only cursor over a saved plan, for results too big to hold. */
Portal
profile_cursor_open(SavedPlan *p, Datum *values, const char *nulls)
{
	MemoryContext cxt = CurrentMemoryContext;
	Portal		portal = SPI_cursor_open(NULL, saved_plan(p), values, nulls, true);

	MemoryContextSwitchTo(cxt);
	if (portal == NULL)
		elog(ERROR, "SPI_cursor_open failed: %s", SPI_result_code_string(SPI_result));
	return portal;
}

/* Column col (1-based) of row row of the last SPI result. */
Datum
profile_spi_value(uint64 row, int col, bool *isnull)
{
	Assert(row < SPI_processed);
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col,
						 isnull);
}

/*
 * The same, for a column our rows always have: a NULL there means the row
 * was damaged behind the extension's back, which is reported rather than
 * followed (table: the table the row came from, for the message).
 */
Datum
profile_spi_required(uint64 row, int col, const char *table)
{
	bool		isnull;
	Datum		d = profile_spi_value(row, col, &isnull);

	if (isnull)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("a row of table \"profile_data.%s\" is damaged", table),
				errdetail("Column \"%s\" is null.",
						  SPI_fname(SPI_tuptable->tupdesc, col)));
	return d;
}

/* The text of a required text column, palloc'd. */
char	   *
profile_spi_text(uint64 row, int col, const char *table)
{
	return TextDatumGetCString(profile_spi_required(row, col, table));
}

/*
 * A stored SHA-256 (bytea of 32 bytes); NULL if the column is null.  Any
 * other length means the row was damaged, and is reported.
 */
const uint8 *
profile_spi_hash(uint64 row, int col, const char *table)
{
	bool		isnull;
	Datum		d = profile_spi_value(row, col, &isnull);
	bytea	   *b;

	if (isnull)
		return NULL;
	b = DatumGetByteaPP(d);
	if (VARSIZE_ANY_EXHDR(b) != 32)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("a row of table \"profile_data.%s\" is damaged", table),
				errdetail("Column \"%s\" holds %d bytes, not the 32 of a SHA-256.",
						  SPI_fname(SPI_tuptable->tupdesc, col),
						  (int) VARSIZE_ANY_EXHDR(b)));
	return (const uint8 *) VARDATA_ANY(b);
}

/* The same, for a hash our rows always have: NULL is damage too. */
const uint8 *
profile_spi_hash_required(uint64 row, int col, const char *table)
{
	const uint8 *h = profile_spi_hash(row, col, table);

	if (h == NULL)
		(void) profile_spi_required(row, col, table);	/* reports the NULL */
	return h;
}

/* Forget the owner when profile_data.profiles changes (or is re-created). */
static void
owner_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == owner_relid)
		data_owner = InvalidOid;
}

/* Register the relcache callback; once per backend, from _PG_init. */
void
profile_spi_init(void)
{
	CacheRegisterRelcacheCallback(owner_relcache_callback, (Datum) 0);
}

/*
 * Does the current user own rel (or is a superuser, or a member of its
 * owner)?  The relcache knows the owner: the API's own rows, which it
 * writes as the owner, need no catalog lookup each.
 */
bool
profile_user_owns(Relation rel)
{
	Oid			user = GetUserId();

	return rel->rd_rel->relowner == user ||
		profile_rel_ownercheck(RelationGetRelid(rel), user);
}

/* The owner of profile_data.profiles: the role our statements run as. */
static Oid
owner_of_data(void)
{
	if (!OidIsValid(data_owner))
	{
		Oid			nsp = get_namespace_oid("profile_data", true);
		Oid			relid = OidIsValid(nsp) ? get_relname_relid("profiles", nsp) : InvalidOid;
		HeapTuple	tup;

		if (!OidIsValid(relid))
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("table \"profile_data.profiles\" does not exist"),
					errhint("Run CREATE EXTENSION profile_ext."));
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for relation %u", relid);
		owner_relid = relid;
		data_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);
	}
	return data_owner;
}

/*
 * The name of one of our relations as the extension made it: a Citus
 * shard of profile_data.audit_events is audit_events_102046, and so is a
 * shard's index or constraint (no name of ours ends in _ and digits).
 * palloc'd.
 */
char	   *
profile_unshard_name(const char *name)
{
	size_t		len = strlen(name);
	size_t		i = len;

	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i < len && i > 1 && name[i - 1] == '_')
		return pnstrdup(name, i - 1);
	return pstrdup(name);
}

/* Is Citus loaded in this backend?  (It can only be preloaded.) */
bool
profile_citus(void)
{
	static int	loaded = -1;

	if (loaded < 0)
		loaded = GetConfigOption(CITUS_NESTED, true, false) != NULL;
	return loaded;
}

/*
 * Start acting as the owner of profile_data: connect SPI (the caller's
 * memory context stays current), switch to the owner's user id inside a
 * security-restricted operation, and pin search_path.
 */
void
profile_owner_begin(OwnerSection *s)
{
	MemoryContext callcxt = CurrentMemoryContext;
	Oid			owner = owner_of_data();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(callcxt);

	GetUserIdAndSecContext(&s->save_userid, &s->save_sec_context);
	SetUserIdAndSecContext(owner,
						   s->save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	s->guc_nestlevel = 0;
	if (namespace_search_path == NULL ||
		strcmp(namespace_search_path, SAFE_SEARCH_PATH) != 0)
	{
		s->guc_nestlevel = NewGUCNestLevel();
		(void) set_config_option("search_path", SAFE_SEARCH_PATH,
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	if (profile_citus())
	{
		const char *nested = GetConfigOption(CITUS_NESTED, true, false);

		if (nested != NULL && strcmp(nested, "on") != 0)
		{
			if (s->guc_nestlevel == 0)
				s->guc_nestlevel = NewGUCNestLevel();
			(void) set_config_option(CITUS_NESTED, "on", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		}
	}
}

/* Stop acting as the owner: search_path, user id, SPI as they were. */
void
profile_owner_end(OwnerSection *s)
{
	if (s->guc_nestlevel > 0)
		AtEOXact_GUC(false, s->guc_nestlevel);
	SetUserIdAndSecContext(s->save_userid, s->save_sec_context);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}
