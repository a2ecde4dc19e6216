/*-------------------------------------------------------------------------
 *
 * src/api/distribute.c
 *		profile.distribute(): the tables on a Citus cluster (README,
 *		"Scaling out with Citus").
 *
 * Run once by a superuser on the coordinator, after CREATE EXTENSION citus
 * and CREATE EXTENSION profile_ext.  It
 *	- drops the foreign keys among our tables (Citus cannot keep them for
 *	  an extension's tables; clients are never deleted, and the admin
 *	  functions look every client up before they refer to it);
 *	- makes the configuration tables reference tables (a copy on every
 *	  node, so that every node reads tenants, tokens and contracts
 *	  locally);
 *	- distributes the per-tenant tables by tenant_id, colocated with
 *	  profiles, so that everything one call of the API does to a tenant
 *	  stays on one worker; and profile_ids by id alone, which is what
 *	  makes an id unique across tenants (contract, section 1);
 *	- gives each worker's sequences a range of their own (group id << 48),
 *	  since our triggers append audit events on the worker that holds the
 *	  row: ids from two nodes never meet.
 * Citus refuses tables with triggers unless citus.enable_unsafe_triggers
 * is on: it is turned on for the duration of the call.  Our triggers are
 * safe on shards: the row carries all they need (audit/audit.c, "Marks").
 *
 * Run again, it does what is left: after adding a worker, that is the new
 * worker's sequences (Citus copies the tables and the extension itself).
 * Every statement is fixed text; the names in it come from the lists below
 * or, quoted, from the catalog.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "base/json.h"

/* copies on every node */
static const char *const reference_tables[] = {
	"tenants", "clients", "access_tokens", "contracts", "role_grants",
};

/* by tenant_id, colocated with the first */
static const char *const tenant_tables[] = {
	"profiles", "audit_events", "audit_seals", "audit_seal_heads",
	"verification_tokens", "verification_outbox", "identity_conflicts",
	"idempotency_keys",
};

/*
 * Run on every worker: its sequences get the range of its group, unless
 * they have it already.  The coordinator (group 0) keeps 1 .. 2^48.
 */
static const char worker_sequences_sql[] =
"SELECT nodename, nodeport, success, result"
" FROM pg_catalog.run_command_on_workers($cmd$"
"DO $do$"
" DECLARE"
"  g bigint := (SELECT groupid FROM pg_catalog.pg_dist_local_group);"
"  lo bigint := (g << 48) + 1;"
"  hi bigint := (g + 1) << 48;"
"  s record;"
" BEGIN"
"  FOR s IN SELECT c.oid::pg_catalog.regclass AS seq, q.seqmin, q.seqmax,"
"                  (SELECT v.last_value FROM pg_catalog.pg_sequences v"
"                    WHERE v.schemaname = 'profile_data'"
"                      AND v.sequencename = c.relname) AS last"
"             FROM pg_catalog.pg_class c"
"             JOIN pg_catalog.pg_sequence q ON q.seqrelid = c.oid"
"            WHERE c.relnamespace = 'profile_data'::pg_catalog.regnamespace"
"              AND c.relkind = 'S'"
"  LOOP"
"   CONTINUE WHEN s.seqmin = lo AND s.seqmax = hi;"
"   EXECUTE pg_catalog.format('ALTER SEQUENCE %s MINVALUE %s MAXVALUE %s"
"                              START WITH %s RESTART WITH %s',"
"                             s.seq, lo, hi, lo,"
"                             GREATEST(lo, COALESCE(s.last + 1, lo)));"
"  END LOOP;"
" END"
" $do$"
"$cmd$)";

/* Run one statement of ours; errors out on failure. */
static void
run(const char *sql)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
}

/* Is profile_data.name distributed (or a reference table) already? */
static bool
distributed(const char *name)
{
	char	   *sql = psprintf("SELECT FROM pg_catalog.pg_dist_partition"
							   " WHERE logicalrelid OPERATOR(pg_catalog.=)"
							   " 'profile_data.%s'::pg_catalog.regclass", name);

	run(sql);
	return SPI_processed > 0;
}

static void
push_elem(JsonbParseState **st, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(st, WJB_ELEM, &v);
}

PG_FUNCTION_INFO_V1(distribute);

/* profile.distribute() RETURNS jsonb */
Datum
distribute(PG_FUNCTION_ARGS)
{
	MemoryContext callcxt = CurrentMemoryContext;
	JsonbParseState *st = NULL;
	JsonbValue *res;
	int			nestlevel;
	int			nworkers = 0;
	char	  **fkeys;
	int			nfkeys;
	int			nnew = 0;
	bool		coordinator = false;
	bool		isnull = true;
	Jsonb	   *out;

	if (!superuser())
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied for function distribute"),
				errdetail("Only a superuser may distribute the tables of profile_ext."));
	if (!OidIsValid(get_extension_oid("citus", true)))
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("extension \"citus\" is not installed in this database"),
				errhint("Run CREATE EXTENSION citus on every node, and add the workers, first."));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("citus.enable_unsafe_triggers", "on", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

	run("SELECT pg_catalog.citus_is_coordinator()");
	if (SPI_processed == 1)
		coordinator = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
	if (!coordinator || isnull)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("profile.distribute() must run on the Citus coordinator"),
				errhint("Add this node as the coordinator with citus_set_coordinator_host(), or connect to the coordinator."));

	/*
	 * The caches of the coordinator's backends hear of a changed tenant,
	 * token or contract from the trigger on the coordinator's own copy of the
	 * reference tables.
	 */
	run("SELECT FROM pg_catalog.pg_dist_node WHERE groupid OPERATOR(pg_catalog.=) 0");
	if (SPI_processed == 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the coordinator is not in the Citus metadata"),
				errdetail("profile_ext needs a copy of the reference tables on the coordinator."),
				errhint("Run SELECT citus_set_coordinator_host('<host>', <port>) first."));

	/* the foreign keys among our tables */
	run("SELECT pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I',"
		"                         c.conrelid::pg_catalog.regclass, c.conname),"
		"       c.conrelid::pg_catalog.regclass::text || '.' || c.conname"
		"  FROM pg_catalog.pg_constraint c"
		" WHERE c.contype OPERATOR(pg_catalog.=) 'f'"
		"   AND c.connamespace OPERATOR(pg_catalog.=) 'profile_data'::pg_catalog.regnamespace"
		" ORDER BY 2");
	nfkeys = (int) SPI_processed;
	fkeys = palloc(sizeof(char *) * 2 * Max(nfkeys, 1));
	for (int i = 0; i < nfkeys; i++)
	{
		fkeys[2 * i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		fkeys[2 * i + 1] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
	}
	for (int i = 0; i < nfkeys; i++)
		run(fkeys[2 * i]);

	MemoryContextSwitchTo(callcxt);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_key(&st, "dropped_foreign_keys");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < nfkeys; i++)
		push_elem(&st, fkeys[2 * i + 1]);
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);

	profile_push_key(&st, "reference_tables");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < lengthof(reference_tables); i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!distributed(reference_tables[i]))
		{
			run(psprintf("SELECT pg_catalog.create_reference_table('profile_data.%s')",
						 reference_tables[i]));
			nnew++;
		}
		push_elem(&st, psprintf("profile_data.%s", reference_tables[i]));
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);

	profile_push_key(&st, "distributed_tables");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < lengthof(tenant_tables); i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!distributed(tenant_tables[i]))
		{
			run(psprintf("SELECT pg_catalog.create_distributed_table("
						 "'profile_data.%s', 'tenant_id', colocate_with => '%s')",
						 tenant_tables[i], i == 0 ? "default" : "profile_data.profiles"));
			nnew++;
		}
		profile_push_text(&st, psprintf("profile_data.%s", tenant_tables[i]), "tenant_id");
	}
	if (!distributed("profile_ids"))
	{
		run("SELECT pg_catalog.create_distributed_table("
			"'profile_data.profile_ids', 'id', colocate_with => 'none')");
		nnew++;
	}
	profile_push_text(&st, "profile_data.profile_ids", "id");
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);

	run(worker_sequences_sql);
	nworkers = (int) SPI_processed;
	for (int i = 0; i < nworkers; i++)
	{
		char	   *ok = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);

		if (ok == NULL || strcmp(ok, "t") != 0)
			ereport(ERROR,
					errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("could not set the sequences of worker %s:%s",
						   SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
						   SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2)),
					errdetail("%s", SPI_getvalue(SPI_tuptable->vals[i],
												 SPI_tuptable->tupdesc, 4)));
	}
	MemoryContextSwitchTo(callcxt);
	profile_push_int(&st, "workers", nworkers);
	profile_push_text(&st, "worker_sequences", "a range of 2^48 values per worker group");
	profile_push_int(&st, "tables_changed", nnew);
	profile_push_key(&st, "settings");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_text(&st, "citus.enable_unsafe_triggers", "on while distributing");
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	out = JsonbValueToJsonb(res);	/* before SPI's memory goes */

	AtEOXact_GUC(true, nestlevel);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PG_RETURN_JSONB_P(out);
}
