/*-------------------------------------------------------------------------
 *
 * src/audit.c
 *		The audit trail: triggers on profile_data.profiles, hash-chained
 *		audit events, the append-only guard and cache invalidation.
 *
 * Every write to profile_data.profiles -- through the API, or an admin's
 * direct INSERT, UPDATE, DELETE or COPY -- fires profile_audit_trigger,
 * which records profile.created, profile.updated (the changed columns, old
 * and new; for the password only the fact), profile.verified (verified
 * went from false to true) or profile.deleted.
 *
 * Context.  An API call announces itself with profile_audit_set_context
 * (tenant, profile id, client, trace id) before it writes; the trigger
 * uses that context only for the very row it names, so a context left by a
 * failed call is never attached to another write.  A direct write is
 * recorded with the database role as its client and a fresh trace id.
 *
 * Chains.  Each profile's events form a hash chain: chain_seq 1, 2, 3 ...
 * and hash = SHA-256(prev_hash, canonical content) (src/chain.c).  Writers
 * of one profile are serialised by the profile row's lock (an UPDATE or
 * DELETE waits for the other transaction; an INSERT makes a row nobody else
 * can see yet), so finding the chain's head is one index probe, and the
 * unique key (tenant_id, profile_id, chain_seq) makes a fork impossible
 * even behind that lock's back.  Creates of different profiles in one
 * tenant never wait for each other.  Within one API call the head is
 * remembered, so a batch of SDK events needs no probe per event.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "profile_ext.h"

typedef struct AuditContext
{
	bool		active;
	int64		tenant_id;
	pg_uuid_t	profile_id;
	pg_uuid_t	trace_id;
	char		client[NAMEDATALEN * 2];
	bool		head_known;		/* head_seq/head_hash are the chain's head */
	int32		head_seq;		/* 0: no event yet */
	uint8		head_hash[PROFILE_HASH_LEN];
} AuditContext;

static AuditContext audit_ctx;

/*
 * An API call is about to write the profile (tenant_id, profile_id).
 * fresh: the profile id was just made, so its chain is empty.
 */
void
profile_audit_set_context(const ApiCall *ctx, int64 tenant_id,
						  const pg_uuid_t *profile_id, bool fresh)
{
	audit_ctx.active = true;
	audit_ctx.tenant_id = tenant_id;
	audit_ctx.profile_id = *profile_id;
	audit_ctx.trace_id = ctx->trace_id;
	strlcpy(audit_ctx.client, ctx->client, sizeof(audit_ctx.client));
	audit_ctx.head_known = fresh;
	audit_ctx.head_seq = 0;
}

void
profile_audit_clear_context(void)
{
	audit_ctx.active = false;
}

/* Does the API call in progress write this very row? */
bool
profile_audit_context_matches(int64 tenant_id, const pg_uuid_t *profile_id)
{
	return audit_ctx.active && audit_ctx.tenant_id == tenant_id &&
		memcmp(&audit_ctx.profile_id, profile_id, sizeof(pg_uuid_t)) == 0;
}

static SavedPlan head_plan = {
	"SELECT chain_seq, hash FROM profile_data.audit_events"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" AND profile_id OPERATOR(pg_catalog.=) $2"
	" ORDER BY chain_seq DESC LIMIT 1",
	2, {INT8OID, UUIDOID}
};

static SavedPlan insert_event_plan = {
	"INSERT INTO profile_data.audit_events (tenant_id, recorded_at, occurred_at,"
	" profile_id, client, source, event, session_id, transaction_group_id,"
	" trace_id, data, chain_seq, prev_hash, hash)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
	14, {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, UUIDOID, TEXTOID, TEXTOID,
	TEXTOID, UUIDOID, UUIDOID, UUIDOID, JSONBOID, INT4OID, BYTEAOID, BYTEAOID}
};

static SavedPlan insert_batch_plan = {
	"INSERT INTO profile_data.audit_events (tenant_id, recorded_at, occurred_at,"
	" profile_id, client, source, event, session_id, transaction_group_id,"
	" trace_id, data, chain_seq, prev_hash, hash)"
	" SELECT $1, $2, u.occurred_at, $3, $4, $5, u.event, u.session_id, u.tg,"
	" $6, u.data, u.seq, u.prev, u.hash"
	" FROM ROWS FROM (pg_catalog.unnest($7), pg_catalog.unnest($8),"
	" pg_catalog.unnest($9), pg_catalog.unnest($10), pg_catalog.unnest($11),"
	" pg_catalog.unnest($12), pg_catalog.unnest($13), pg_catalog.unnest($14))"
	" AS u(occurred_at, event, session_id, tg, data, seq, prev, hash)",
	14, {INT8OID, TIMESTAMPTZOID, UUIDOID, TEXTOID, TEXTOID, UUIDOID,
		TIMESTAMPTZARRAYOID, TEXTARRAYOID, UUIDARRAYOID, UUIDARRAYOID,
	JSONBARRAYOID, INT4ARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID}
};

/* The head of a profile's chain, from the context or one index probe. */
static void
chain_head(int64 tenant_id, const pg_uuid_t *profile_id, int32 *seq,
		   uint8 *hash)
{
	Datum		args[2];

	if (profile_audit_context_matches(tenant_id, profile_id) && audit_ctx.head_known)
	{
		*seq = audit_ctx.head_seq;
		memcpy(hash, audit_ctx.head_hash, PROFILE_HASH_LEN);
		return;
	}
	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(profile_id);
	profile_exec(&head_plan, args, NULL, false, 1);
	*seq = 0;
	if (SPI_processed > 0)
	{
		const uint8 *h = profile_spi_hash(0, 2, "audit_events");

		*seq = DatumGetInt32(profile_spi_required(0, 1, "audit_events"));
		if (h == NULL)
			profile_spi_required(0, 2, "audit_events");
		memcpy(hash, h, PROFILE_HASH_LEN);
	}
}

/* Remember the new head for the rest of the API call. */
static void
remember_head(const AuditEvent *ev, const uint8 *hash)
{
	if (profile_audit_context_matches(ev->tenant_id, &ev->profile_id))
	{
		audit_ctx.head_known = true;
		audit_ctx.head_seq = ev->chain_seq;
		memcpy(audit_ctx.head_hash, hash, PROFILE_HASH_LEN);
	}
}

static Datum
uuid_or_null(const pg_uuid_t *u, char *null)
{
	*null = u ? ' ' : 'n';
	return u ? UUIDPGetDatum(u) : (Datum) 0;
}

/*
 * Append one event to its profile's chain.  ev->chain_seq is set here.
 * SPI must be connected.
 */
void
profile_audit_append(AuditEvent *ev)
{
	uint8		prev[PROFILE_HASH_LEN];
	uint8		hash[PROFILE_HASH_LEN];
	int32		seq;
	Datum		v[14];
	char		n[14];

	chain_head(ev->tenant_id, &ev->profile_id, &seq, prev);
	ev->chain_seq = seq + 1;
	profile_event_hash(seq > 0 ? prev : NULL, ev, hash);

	memset(n, ' ', sizeof(n));
	v[0] = Int64GetDatum(ev->tenant_id);
	v[1] = TimestampTzGetDatum(ev->recorded_at);
	v[2] = TimestampTzGetDatum(ev->occurred_at);
	v[3] = UUIDPGetDatum(&ev->profile_id);
	v[4] = ev->client ? CStringGetTextDatum(ev->client) : (Datum) 0;
	n[4] = ev->client ? ' ' : 'n';
	v[5] = CStringGetTextDatum(ev->source);
	v[6] = CStringGetTextDatum(ev->event);
	v[7] = uuid_or_null(ev->session_id, &n[7]);
	v[8] = uuid_or_null(ev->transaction_group_id, &n[8]);
	v[9] = uuid_or_null(ev->trace_id, &n[9]);
	v[10] = JsonbPGetDatum(ev->data);
	v[11] = Int32GetDatum(ev->chain_seq);
	v[12] = seq > 0 ? PointerGetDatum(profile_bytea(prev, PROFILE_HASH_LEN)) : (Datum) 0;
	n[12] = seq > 0 ? ' ' : 'n';
	v[13] = PointerGetDatum(profile_bytea(hash, PROFILE_HASH_LEN));
	if (profile_exec(&insert_event_plan, v, n, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record audit event");
	remember_head(ev, hash);
}

/*
 * Append a batch of events of one profile, from one source, with one
 * client and trace id, in a single set-based INSERT.  The events' own
 * fields: occurred_at, event, session_id, transaction_group_id, data.
 */
void
profile_audit_append_batch(AuditEvent *evs, int n)
{
	uint8		prev[PROFILE_HASH_LEN];
	uint8		hash[PROFILE_HASH_LEN];
	int32		seq;
	Datum	   *occurred = palloc(sizeof(Datum) * n);
	Datum	   *event = palloc(sizeof(Datum) * n);
	Datum	   *session = palloc(sizeof(Datum) * n);
	Datum	   *group = palloc(sizeof(Datum) * n);
	Datum	   *data = palloc(sizeof(Datum) * n);
	Datum	   *seqs = palloc(sizeof(Datum) * n);
	Datum	   *prevs = palloc(sizeof(Datum) * n);
	Datum	   *hashes = palloc(sizeof(Datum) * n);
	bool	   *snull = palloc(sizeof(bool) * n);
	bool	   *gnull = palloc(sizeof(bool) * n);
	bool	   *pnull = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Datum		v[14];
	char		nulls[14];
	const AuditEvent *first = &evs[0];

	if (n == 0)
		return;
	chain_head(first->tenant_id, &first->profile_id, &seq, prev);
	for (int i = 0; i < n; i++)
	{
		AuditEvent *ev = &evs[i];

		ev->chain_seq = seq + 1;
		profile_event_hash(seq > 0 ? prev : NULL, ev, hash);
		occurred[i] = TimestampTzGetDatum(ev->occurred_at);
		event[i] = CStringGetTextDatum(ev->event);
		session[i] = ev->session_id ? UUIDPGetDatum(ev->session_id) : (Datum) 0;
		snull[i] = ev->session_id == NULL;
		group[i] = ev->transaction_group_id ? UUIDPGetDatum(ev->transaction_group_id) : (Datum) 0;
		gnull[i] = ev->transaction_group_id == NULL;
		data[i] = JsonbPGetDatum(ev->data);
		seqs[i] = Int32GetDatum(ev->chain_seq);
		prevs[i] = seq > 0 ? PointerGetDatum(profile_bytea(prev, PROFILE_HASH_LEN)) : (Datum) 0;
		pnull[i] = seq == 0;
		hashes[i] = PointerGetDatum(profile_bytea(hash, PROFILE_HASH_LEN));
		memcpy(prev, hash, PROFILE_HASH_LEN);
		seq = ev->chain_seq;
	}

	memset(nulls, ' ', sizeof(nulls));
	v[0] = Int64GetDatum(first->tenant_id);
	v[1] = TimestampTzGetDatum(first->recorded_at);
	v[2] = UUIDPGetDatum(&first->profile_id);
	v[3] = first->client ? CStringGetTextDatum(first->client) : (Datum) 0;
	nulls[3] = first->client ? ' ' : 'n';
	v[4] = CStringGetTextDatum(first->source);
	v[5] = uuid_or_null(first->trace_id, &nulls[5]);
	v[6] = PointerGetDatum(construct_md_array(occurred, NULL, 1, dims, lbs,
											  TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	v[7] = PointerGetDatum(construct_md_array(event, NULL, 1, dims, lbs,
											  TEXTOID, -1, false, TYPALIGN_INT));
	v[8] = PointerGetDatum(construct_md_array(session, snull, 1, dims, lbs,
											  UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	v[9] = PointerGetDatum(construct_md_array(group, gnull, 1, dims, lbs,
											  UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	v[10] = PointerGetDatum(construct_md_array(data, NULL, 1, dims, lbs,
											   JSONBOID, -1, false, TYPALIGN_INT));
	v[11] = PointerGetDatum(construct_md_array(seqs, NULL, 1, dims, lbs,
											   INT4OID, 4, true, TYPALIGN_INT));
	v[12] = PointerGetDatum(construct_md_array(prevs, pnull, 1, dims, lbs,
											   BYTEAOID, -1, false, TYPALIGN_INT));
	v[13] = PointerGetDatum(construct_md_array(hashes, NULL, 1, dims, lbs,
											   BYTEAOID, -1, false, TYPALIGN_INT));
	if (profile_exec(&insert_batch_plan, v, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record audit events");
	remember_head(&evs[n - 1], hash);
}

/* The columns that an audit record never shows. */
static bool
secret_column(const char *name)
{
	return strcmp(name, "password_hash") == 0;
}

/* A profile row as jsonb, without the password hash. */
static Jsonb *
row_document(HeapTuple tup, TupleDesc desc)
{
	JsonbParseState *st = NULL;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		isnull;
		Datum		d;

		if (att->attisdropped || secret_column(NameStr(att->attname)))
			continue;
		d = heap_getattr(tup, i + 1, desc, &isnull);
		if (isnull)
			profile_push_null(&st, NameStr(att->attname));
		else
			profile_push_datum(&st, NameStr(att->attname), d, att->atttypid);
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/*
 * The changes of an UPDATE: {"changes": {column: {"old", "new"}}} (but
 * updated_at), and {"password": "changed"} without either value.
 */
static Jsonb *
change_document(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc)
{
	JsonbParseState *st = NULL;
	bool		password_changed = false;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_key(&st, "changes");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		onull,
					nnull;
		Datum		o,
					n;

		/* updated_at changes with every update: no news */
		if (att->attisdropped || strcmp(NameStr(att->attname), "updated_at") == 0)
			continue;
		o = heap_getattr(oldtup, i + 1, desc, &onull);
		n = heap_getattr(newtup, i + 1, desc, &nnull);
		if (onull == nnull &&
			(onull || datum_image_eq(o, n, att->attbyval, att->attlen)))
			continue;
		if (secret_column(NameStr(att->attname)))
		{
			password_changed = true;
			continue;
		}
		profile_push_key(&st, NameStr(att->attname));
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		if (onull)
			profile_push_null(&st, "old");
		else
			profile_push_datum(&st, "old", o, att->atttypid);
		if (nnull)
			profile_push_null(&st, "new");
		else
			profile_push_datum(&st, "new", n, att->atttypid);
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	if (password_changed)
		profile_push_text(&st, "password", "changed");
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

static bool
bool_column(HeapTuple tup, TupleDesc desc, const char *name)
{
	int			attno = SPI_fnumber(desc, name);
	bool		isnull;
	Datum		d;

	if (attno <= 0)
		return false;
	d = heap_getattr(tup, attno, desc, &isnull);
	return !isnull && DatumGetBool(d);
}

PG_FUNCTION_INFO_V1(profile_audit_trigger);

/* AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW on profile_data.profiles. */
Datum
profile_audit_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;
	AuditEvent	ev;
	pg_uuid_t	trace_id;
	bool		isnull;
	OwnerSection owner;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "profile_audit_trigger: must be fired AFTER ... FOR EACH ROW");

	desc = RelationGetDescr(td->tg_relation);
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = DatumGetInt64(heap_getattr(tup, SPI_fnumber(desc, "tenant_id"),
											  desc, &isnull));
	ev.profile_id = *DatumGetUUIDP(heap_getattr(tup, SPI_fnumber(desc, "id"),
												desc, &isnull));
	ev.recorded_at = ev.occurred_at = GetCurrentTransactionStartTimestamp();
	ev.source = "db";
	if (profile_audit_context_matches(ev.tenant_id, &ev.profile_id))
	{
		ev.client = audit_ctx.client;
		ev.trace_id = &audit_ctx.trace_id;
	}
	else
	{
		ev.client = GetUserNameFromId(GetUserId(), false);
		profile_uuid_v4(&trace_id);
		ev.trace_id = &trace_id;
	}

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		ev.event = "profile.created";
		ev.data = row_document(tup, desc);
	}
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		ev.event = "profile.deleted";
		ev.data = row_document(tup, desc);
	}
	else
	{
		ev.event = (!bool_column(td->tg_trigtuple, desc, "verified") &&
					bool_column(tup, desc, "verified")) ?
			"profile.verified" : "profile.updated";
		ev.data = change_document(td->tg_trigtuple, tup, desc);
	}

	profile_owner_begin(&owner);
	profile_audit_append(&ev);
	profile_owner_end(&owner);

	return PointerGetDatum(tup);
}

PG_FUNCTION_INFO_V1(profile_refuse_change);

/*
 * BEFORE UPDATE OR DELETE (row) and BEFORE TRUNCATE (statement): the audit
 * tables are append-only, for every role; profiles are deleted row by row
 * so that each deletion is audited.
 */
Datum
profile_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *rel;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "profile_refuse_change: not called as a trigger");
	rel = RelationGetRelationName(td->tg_relation);
	what = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "update rows of" :
		TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "delete from" : "truncate";

	if (strcmp(rel, "profiles") == 0)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot truncate table \"profile_data.profiles\""),
				errdetail("Every deletion of a profile is audited."),
				errhint("Use DELETE."));
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("cannot %s table \"profile_data.%s\"", what, rel),
			errhint("Audit records can only be added."),
			errdetail("The table is append-only, for every role."));
	PG_RETURN_NULL();
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
