/*-------------------------------------------------------------------------
 *
 * src/audit.c
 *		The audit trigger on profile_data.profiles and the cache
 *		invalidation trigger on the configuration tables.
 *
 * The audit trigger records a "profile.created" event for every row
 * inserted, whichever path wrote it.  An API call announces itself with
 * profile_audit_set_context (tenant, profile id, client, trace id) just
 * before its insert; the trigger uses that context only for the very row
 * it names, so a context left behind by a failed call can never be
 * attached to an unrelated write.  A direct write by an admin is recorded
 * with the database role as the client and a fresh trace id.
 *
 * The event's data is the new row as jsonb without password_hash.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "profile_ext.h"

typedef struct AuditContext
{
	bool		active;
	int64		tenant_id;
	pg_uuid_t	profile_id;
	pg_uuid_t	trace_id;
	char		client[NAMEDATALEN * 2];
} AuditContext;

static AuditContext audit_ctx;

void
profile_audit_set_context(const ApiCall *ctx, int64 tenant_id,
						  const pg_uuid_t *profile_id)
{
	audit_ctx.active = true;
	audit_ctx.tenant_id = tenant_id;
	audit_ctx.profile_id = *profile_id;
	audit_ctx.trace_id = ctx->trace_id;
	strlcpy(audit_ctx.client, ctx->client, sizeof(audit_ctx.client));
}

void
profile_audit_clear_context(void)
{
	audit_ctx.active = false;
}

/* The insert plan takes the row type as a parameter; it is per relation. */
static SavedPlan audit_plan = {
	"INSERT INTO profile_data.audit_events"
	" (tenant_id, occurred_at, profile_id, client, source, event, trace_id, data)"
	" VALUES ($1, pg_catalog.now(), $2, $3, 'db', $4, $5,"
	" pg_catalog.to_jsonb($6) OPERATOR(pg_catalog.-) 'password_hash'::pg_catalog.text)",
	6, {INT8OID, UUIDOID, TEXTOID, TEXTOID, UUIDOID, InvalidOid}
};

static AttrNumber tenant_attno = InvalidAttrNumber;
static AttrNumber id_attno = InvalidAttrNumber;

PG_FUNCTION_INFO_V1(profile_audit_trigger);

/* AFTER INSERT FOR EACH ROW on profile_data.profiles. */
Datum
profile_audit_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	int64		tenant_id;
	pg_uuid_t  *profile_id;
	pg_uuid_t	trace_id;
	const char *client;
	Oid			rowtype;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "profile_audit_trigger: must be fired AFTER INSERT FOR EACH ROW");

	desc = RelationGetDescr(td->tg_relation);
	tup = td->tg_trigtuple;
	rowtype = td->tg_relation->rd_rel->reltype;

	if (audit_plan.argtypes[5] != rowtype)
	{
		/* first call, or the table was re-created */
		if (audit_plan.plan)
			SPI_freeplan(audit_plan.plan);
		audit_plan.plan = NULL;
		audit_plan.argtypes[5] = rowtype;
		tenant_attno = SPI_fnumber(desc, "tenant_id");
		id_attno = SPI_fnumber(desc, "id");
		if (tenant_attno <= 0 || id_attno <= 0)
			elog(ERROR, "profile_audit_trigger: table lacks tenant_id or id");
	}

	tenant_id = DatumGetInt64(heap_getattr(tup, tenant_attno, desc, &isnull));
	profile_id = DatumGetUUIDP(heap_getattr(tup, id_attno, desc, &isnull));

	if (audit_ctx.active && audit_ctx.tenant_id == tenant_id &&
		memcmp(&audit_ctx.profile_id, profile_id, sizeof(pg_uuid_t)) == 0)
	{
		client = audit_ctx.client;
		trace_id = audit_ctx.trace_id;
	}
	else
	{
		client = GetUserNameFromId(GetUserId(), false);
		profile_uuid_v4(&trace_id);
	}

	values[0] = Int64GetDatum(tenant_id);
	values[1] = UUIDPGetDatum(profile_id);
	values[2] = CStringGetTextDatum(client);
	values[3] = CStringGetTextDatum("profile.created");
	values[4] = UUIDPGetDatum(&trace_id);
	values[5] = heap_copy_tuple_as_datum(tup, desc);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (profile_exec(&audit_plan, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record audit event");
	SPI_finish();

	return PointerGetDatum(tup);
}

PG_FUNCTION_INFO_V1(profile_invalidate_caches);

/*
 * AFTER ... FOR EACH STATEMENT on the configuration tables: tell every
 * backend (at commit) that its cached tenants, tokens and contracts are
 * stale.  See src/cache.c.
 */
Datum
profile_invalidate_caches(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "profile_invalidate_caches: not called as a trigger");
	CacheInvalidateRelcache(td->tg_relation);
	return PointerGetDatum(NULL);
}
