/*-------------------------------------------------------------------------
 *
 * src/audit/audit.c
 *		The audit trail: appending hash-chained events, and the context an
 *		API call gives the triggers.
 *
 * Every write to profile_data.profiles -- through the API, or an admin's
 * direct INSERT, UPDATE, DELETE or COPY -- fires the audit trigger
 * (audit/trigger.c), which appends an event here.
 *
 * Marks.  An API call writes its rows with the column api_mark set to a
 * mark (profile_audit_mark: its client, trace id and what the triggers
 * should leave to it).  The row trigger (api/rowcheck.c) takes the mark
 * off the row -- a stored row never holds one -- and keeps it for the
 * transaction, by tenant and profile id (profile_audit_take_mark); the
 * audit trigger then records the row's event with the call's client and
 * trace id, or nothing where the call records its events itself
 * (create_profiles) or erases the profile.  The mark travels with the
 * row, so this works wherever the triggers fire: in the backend of the
 * call, or on the Citus worker that holds the row's shard.  A write
 * without a mark is a direct write: checked by the row trigger and
 * recorded with the database role as its client and a fresh trace id.
 * The trigger takes a mark only from the owner of profile_data, who could
 * as well disable the triggers: a forged mark gives nobody anything.  A
 * later write without a mark drops the row's mark, and so does the abort
 * of the (sub)transaction that took it.
 *
 * Context.  An API call that appends events itself announces the profile
 * with profile_audit_set_context, so that a second event of the call
 * finds the chain's head without a probe.  A (sub)transaction abort
 * drops it.
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
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "audit/chain.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/rowinsert.h"
#include "core/pe_validate.h"

typedef struct AuditContext
{
	bool		active;
	int			nestlevel;		/* the (sub)transaction that set it */
	int64		tenant_id;
	pg_uuid_t	profile_id;
	bool		head_known;		/* head_seq/head_hash are the chain's head */
	bool		head_closed;	/* which is profile.erased */
	int32		head_seq;		/* 0: no event yet */
	uint8		head_hash[PROFILE_HASH_LEN];
} AuditContext;

static AuditContext audit_ctx;

/* The marks taken off rows in this transaction (see "Marks"). */
typedef struct MarkKey
{
	int64		tenant_id;
	pg_uuid_t	profile_id;
} MarkKey;

/*
 * A mark belongs to one row version: the new row of an insert, or the
 * update of the old row at tid; an update marking the row for deletion
 * also names the version it made (del_tid), the one the deletion removes.
 * So the AFTER trigger of another statement on the same profile, queued
 * while the call ran (the call made from that statement's RETURNING, say),
 * never takes the call's mark for its own.
 */
typedef struct MarkEntry
{
	MarkKey		key;
	MarkedWrite write;			/* MARKED_INSERT or MARKED_UPDATE */
	ItemPointerData tid;		/* MARKED_UPDATE: the old row's */
	ItemPointerData del_tid;	/* AUDIT_MARK_DELETING: the row to delete */
	pg_uuid_t	trace_id;
	int			flags;
	SubTransactionId subid;		/* taken in; its abort drops the mark */
	char		client[NAMEDATALEN * 2];
} MarkEntry;

/*
 * In TopMemoryContext, made once and emptied at the end of every
 * transaction (made anew per transaction, it cost a call a few percent);
 * dropped after a transaction that took many marks, so that a batch's
 * thousand entries do not stay.
 */
static HTAB *marks = NULL;

/* The latest subtransaction that took a mark: aborts of later ones skip */
static SubTransactionId marks_latest_subid = InvalidSubTransactionId;

#define MARKS_KEPT 64

#define MARK_VERSION "pm1"

/*
 * The mark an API call writes into api_mark: version, trace id, flags and
 * client, separated by tabs.  palloc'd.
 */
char	   *
profile_audit_mark(const pg_uuid_t *trace_id, const char *client, int flags)
{
	return psprintf("%s\t%s\t%d\t%s", MARK_VERSION, profile_uuid_text(trace_id), flags,
					client ? client : "");
}

/*
 * Take a mark off a row of (tenant_id, profile_id) that write (MARKED_INSERT,
 * or MARKED_UPDATE of the row at tid) is about to store: keep it for the
 * transaction.  false if it is not a mark.
 */
bool
profile_audit_take_mark(int64 tenant_id, const pg_uuid_t *profile_id, const char *mark,
						MarkedWrite write, ItemPointer tid)
{
	char	   *copy = pstrdup(mark);
	char	   *fields[4];
	int			n = 0;
	char	   *p = copy;
	MarkKey		key;
	MarkEntry  *e;
	bool		found;
	pg_uuid_t	trace;
	char	   *end;
	long		flags;

	while (n < 4)
	{
		fields[n++] = p;
		if (n == 4)
			break;
		p = strchr(p, '\t');
		if (p == NULL)
			return false;
		*p++ = '\0';
	}
	if (strcmp(fields[0], MARK_VERSION) != 0 ||
		!pe_parse_uuid(fields[1], strlen(fields[1]), trace.data))
		return false;
	flags = strtol(fields[2], &end, 10);
	if (end == fields[2] || *end != '\0' || flags < 0 || flags > 0xff)
		return false;
	/* a client name is at most 64 bytes; a longer one is no mark of ours */
	if (strlen(fields[3]) >= NAMEDATALEN * 2)
		return false;

	if (marks == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(MarkKey);
		ctl.entrysize = sizeof(MarkEntry);
		ctl.hcxt = TopMemoryContext;
		marks = hash_create("profile_ext row marks", 16, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.tenant_id = tenant_id;
	key.profile_id = *profile_id;
	e = hash_search(marks, &key, HASH_ENTER, &found);
	e->write = write;
	if (write == MARKED_UPDATE)
		e->tid = *tid;
	else
		ItemPointerSetInvalid(&e->tid);
	ItemPointerSetInvalid(&e->del_tid);
	e->trace_id = trace;
	e->flags = (int) flags;
	e->subid = GetCurrentSubTransactionId();
	if (e->subid > marks_latest_subid)
		marks_latest_subid = e->subid;
	strlcpy(e->client, fields[3], sizeof(e->client));
	return true;
}

/* The mark taken off this row in this transaction, or NULL. */
static MarkEntry *
find_mark(int64 tenant_id, const pg_uuid_t *profile_id)
{
	MarkKey		key;

	if (marks == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.tenant_id = tenant_id;
	key.profile_id = *profile_id;
	return hash_search(marks, &key, HASH_FIND, NULL);
}

/*
 * The update marking the row for deletion (AUDIT_MARK_DELETING) made the
 * row version at tid: the one its deletion removes.
 */
void
profile_audit_mark_deleting(int64 tenant_id, const pg_uuid_t *profile_id, ItemPointer tid)
{
	MarkEntry  *e = find_mark(tenant_id, profile_id);

	if (e != NULL && (e->flags & AUDIT_MARK_DELETING))
		e->del_tid = *tid;
}

/* A write without a mark: whatever mark the row had is not its. */
void
profile_audit_drop_mark(int64 tenant_id, const pg_uuid_t *profile_id)
{
	MarkKey		key;

	if (marks == NULL)
		return;
	memset(&key, 0, sizeof(key));
	key.tenant_id = tenant_id;
	key.profile_id = *profile_id;
	(void) hash_search(marks, &key, HASH_REMOVE, NULL);
}

/*
 * Is this write of the row an API call's?  write: MARKED_INSERT; or
 * MARKED_UPDATE or MARKED_DELETE of the old row at tid.  *client and
 * *trace_id: the call's client and trace id; *flags: AUDIT_MARK_* (what to
 * leave to it).
 */
bool
profile_audit_marked(int64 tenant_id, const pg_uuid_t *profile_id, MarkedWrite write,
					 ItemPointer tid, const char **client, const pg_uuid_t **trace_id,
					 int *flags)
{
	MarkEntry  *e = find_mark(tenant_id, profile_id);

	if (e == NULL)
		return false;
	switch (write)
	{
		case MARKED_INSERT:
			if (e->write != MARKED_INSERT)
				return false;
			break;
		case MARKED_UPDATE:
			if (e->write != MARKED_UPDATE || !ItemPointerEquals(&e->tid, tid))
				return false;
			break;
		case MARKED_DELETE:
			if (!(e->flags & AUDIT_MARK_DELETING) || !ItemPointerIsValid(&e->del_tid) ||
				!ItemPointerEquals(&e->del_tid, tid))
				return false;
			break;
	}
	*client = e->client;
	*trace_id = &e->trace_id;
	*flags = e->flags;
	return true;
}

/*
 * An API call is about to write the profile (tenant_id, profile_id) and
 * append events to its chain.  The head is not known yet, even for a new
 * profile: the trigger recording its row may have run on another node.
 */
void
profile_audit_set_context(int64 tenant_id, const pg_uuid_t *profile_id)
{
	audit_ctx.active = true;
	audit_ctx.nestlevel = GetCurrentTransactionNestLevel();
	audit_ctx.tenant_id = tenant_id;
	audit_ctx.profile_id = *profile_id;
	audit_ctx.head_known = false;
	audit_ctx.head_seq = 0;
}

void
profile_audit_clear_context(void)
{
	audit_ctx.active = false;
}

/* A transaction that aborts drops the context it set. */
static void
audit_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
	{
		/* marks are the transaction's */
		audit_ctx.active = false;
		marks_latest_subid = InvalidSubTransactionId;
		if (marks != NULL && hash_get_num_entries(marks) > MARKS_KEPT)
		{
			hash_destroy(marks);
			marks = NULL;
		}
		else if (marks != NULL && hash_get_num_entries(marks) > 0)
		{
			HASH_SEQ_STATUS seq;
			MarkEntry  *e;

			hash_seq_init(&seq, marks);
			while ((e = hash_seq_search(&seq)) != NULL)
				(void) hash_search(marks, &e->key, HASH_REMOVE, NULL);
		}
	}
}

/* So does a subtransaction (a PL/pgSQL exception block, say). */
static void
audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	if (audit_ctx.nestlevel >= GetCurrentTransactionNestLevel())
		audit_ctx.active = false;

	/*
	 * marks taken in it or in its children (later ids); none if the latest
	 * mark is older, so a loop of calls in exception blocks stays linear
	 */
	if (marks != NULL && marks_latest_subid >= mySubid)
	{
		HASH_SEQ_STATUS seq;
		MarkEntry  *e;

		hash_seq_init(&seq, marks);
		while ((e = hash_seq_search(&seq)) != NULL)
			if (e->subid >= mySubid)
				(void) hash_search(marks, &e->key, HASH_REMOVE, NULL);
	}
}

/* Register the callbacks; once per backend, from _PG_init. */
void
profile_audit_init(void)
{
	RegisterXactCallback(audit_xact_callback, NULL);
	RegisterSubXactCallback(audit_subxact_callback, NULL);
}

/* Does the API call in progress write this very row? */
static bool
profile_audit_context_matches(int64 tenant_id, const pg_uuid_t *profile_id)
{
	if (!audit_ctx.active || audit_ctx.tenant_id != tenant_id)
		return false;
	return memcmp(&audit_ctx.profile_id, profile_id, sizeof(pg_uuid_t)) == 0;
}

static SavedPlan head_plan = {
	"SELECT chain_seq, hash, event OPERATOR(pg_catalog.=) 'profile.erased'"
	" FROM profile_data.audit_events"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" AND profile_id OPERATOR(pg_catalog.=) $2"
	" ORDER BY chain_seq DESC LIMIT 1",
	2, {INT8OID, UUIDOID}
};

/* An event's row (event_row) */
#define PROFILE_AUDIT_EVENT_COLUMNS \
	"tenant_id, recorded_at, occurred_at, profile_id, client, source, event," \
	" session_id, transaction_group_id, trace_id, data, chain_seq, prev_hash, hash, salt"
#define PROFILE_AUDIT_EVENT_NCOLUMNS 15
#define PROFILE_AUDIT_EVENT_TYPES \
	INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, UUIDOID, TEXTOID, TEXTOID, \
	TEXTOID, UUIDOID, UUIDOID, UUIDOID, JSONBOID, INT4OID, BYTEAOID, BYTEAOID, BYTEAOID

static SavedPlan insert_event_plan = {
	"INSERT INTO profile_data.audit_events (" PROFILE_AUDIT_EVENT_COLUMNS ")"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
	PROFILE_AUDIT_EVENT_NCOLUMNS, {PROFILE_AUDIT_EVENT_TYPES}
};

static SavedPlan insert_batch_plan = {
	"INSERT INTO profile_data.audit_events (tenant_id, recorded_at, occurred_at,"
	" profile_id, client, source, event, session_id, transaction_group_id,"
	" trace_id, data, chain_seq, prev_hash, hash, salt)"
	" SELECT $1, $2, u.occurred_at, $3, $4, $5, u.event, u.session_id, u.tg,"
	" $6, u.data, u.seq, u.prev, u.hash, u.salt"
	" FROM ROWS FROM (pg_catalog.unnest($7), pg_catalog.unnest($8),"
	" pg_catalog.unnest($9), pg_catalog.unnest($10), pg_catalog.unnest($11),"
	" pg_catalog.unnest($12), pg_catalog.unnest($13), pg_catalog.unnest($14),"
	" pg_catalog.unnest($15))"
	" AS u(occurred_at, event, session_id, tg, data, seq, prev, hash, salt)",
	15, {INT8OID, TIMESTAMPTZOID, UUIDOID, TEXTOID, TEXTOID, UUIDOID,
		TIMESTAMPTZARRAYOID, TEXTARRAYOID, UUIDARRAYOID, UUIDARRAYOID,
	JSONBARRAYOID, INT4ARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID}
};

/* The head of a profile's chain, from the context or one index probe. */
static void
chain_head(int64 tenant_id, const pg_uuid_t *profile_id, int32 *seq,
		   uint8 *hash)
{
	Datum		args[2];
	bool		closed = false;

	if (profile_audit_context_matches(tenant_id, profile_id) && audit_ctx.head_known)
	{
		*seq = audit_ctx.head_seq;
		memcpy(hash, audit_ctx.head_hash, PROFILE_HASH_LEN);
		closed = audit_ctx.head_closed;
	}
	else
	{
		args[0] = Int64GetDatum(tenant_id);
		args[1] = UUIDPGetDatum(profile_id);
		profile_exec(&head_plan, args, NULL, false, 1);
		*seq = 0;
		if (SPI_processed > 0)
		{
			*seq = DatumGetInt32(profile_spi_required(0, 1, "audit_events"));
			memcpy(hash, profile_spi_hash_required(0, 2, "audit_events"), PROFILE_HASH_LEN);
			closed = DatumGetBool(profile_spi_required(0, 3, "audit_events"));
		}
	}

	/*
	 * Nothing follows profile.erased: a write whose event was still waiting
	 * when the profile was erased (an AFTER trigger of a statement that
	 * called erase_profile) would bring the values back.
	 */
	if (closed)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("cannot record an event of profile %s after its erasure",
					   profile_uuid_text(profile_id)),
				errdetail("The profile was erased while the change waited to be recorded."));
}

/* Remember the new head for the rest of the API call. */
static void
remember_head(const AuditEvent *ev, const uint8 *hash)
{
	if (profile_audit_context_matches(ev->tenant_id, &ev->profile_id))
	{
		audit_ctx.head_known = true;
		audit_ctx.head_closed = strcmp(ev->event, "profile.erased") == 0;
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
 * An event's row as v[] and n[], in the order of
 * PROFILE_AUDIT_EVENT_COLUMNS: its fields, prev (NULL: first of its
 * chain), its hash (NULL: the caller's to set) and its salt.
 */
static void
event_values(const AuditEvent *ev, const uint8 *prev, const uint8 *hash, Datum *v, char *n)
{
	memset(n, ' ', PROFILE_AUDIT_EVENT_NCOLUMNS);
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
	v[12] = prev ? PointerGetDatum(profile_bytea(prev, PROFILE_HASH_LEN)) : (Datum) 0;
	n[12] = prev ? ' ' : 'n';
	v[13] = hash ? PointerGetDatum(profile_bytea(hash, PROFILE_HASH_LEN)) : (Datum) 0;
	v[14] = PointerGetDatum(profile_bytea(ev->salt, PROFILE_SALT_LEN));
}

/*
 * The row of an event appended to its profile's chain, as v[] and n[] (in
 * the order of PROFILE_AUDIT_EVENT_COLUMNS); salt: PROFILE_SALT_LEN bytes
 * that live as long as v.  first: the API call that has just inserted the
 * profile, with a new id, records its first event, so the head needs no
 * probe -- should the id have events all the same, the unique key on
 * (tenant_id, profile_id, chain_seq) refuses the fork.  (The trigger cannot
 * assume as much: the event of a direct insert waits for the end of its
 * statement, after any API call made from the statement.)  ev->chain_seq
 * is set, and the new head remembered for the rest of the call: the
 * caller inserts the row or fails.  SPI must be connected.
 */
static void
event_row(AuditEvent *ev, bool first, uint8 *salt, Datum *v, char *n)
{
	uint8		prev[PROFILE_HASH_LEN];
	uint8		hash[PROFILE_HASH_LEN];
	int32		seq = 0;

	if (!first)
		chain_head(ev->tenant_id, &ev->profile_id, &seq, prev);
	ev->chain_seq = seq + 1;
	profile_random_bytes(salt, PROFILE_SALT_LEN);
	ev->version = 2;
	ev->salt = salt;
	ev->content_hash = NULL;
	profile_event_hash(seq > 0 ? prev : NULL, ev, hash);

	event_values(ev, seq > 0 ? prev : NULL, hash, v, n);
	remember_head(ev, hash);
}

/* audit_events, for events appended without a statement */
static const char *const event_columns[PROFILE_AUDIT_EVENT_NCOLUMNS] = {
	"tenant_id", "recorded_at", "occurred_at", "profile_id", "client", "source", "event",
	"session_id", "transaction_group_id", "trace_id", "data", "chain_seq", "prev_hash",
	"hash", "salt"
};
static const Oid event_types[PROFILE_AUDIT_EVENT_NCOLUMNS] = {PROFILE_AUDIT_EVENT_TYPES};
static RowTable event_rows = {"audit_events", PROFILE_AUDIT_EVENT_NCOLUMNS, event_columns, event_types};

/*
 * Append one event to its profile's chain (see event_row): on one server
 * without a statement where the table allows it (base/rowinsert.c).
 */
static void
append_event(AuditEvent *ev, bool first)
{
	uint8		salt[PROFILE_SALT_LEN];
	Datum		v[PROFILE_AUDIT_EVENT_NCOLUMNS];
	char		n[PROFILE_AUDIT_EVENT_NCOLUMNS];

	event_row(ev, first, salt, v, n);
	if (!profile_citus() && profile_row_insert(&event_rows, v, n))
		return;
	if (profile_exec(&insert_event_plan, v, n, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record audit event");
	if (SPI_processed != 1)
		profile_raise_row_skipped("audit_events");
}


/* Append one event to its profile's chain (see append_event). */
void
profile_audit_append(AuditEvent *ev)
{
	append_event(ev, false);
}

/* Append the first event of a new profile's chain (see append_event). */
void
profile_audit_append_first(AuditEvent *ev)
{
	append_event(ev, true);
}

/*
 * The events of profile_audit_append_batch in one set-based INSERT (on
 * Citus, or where the table needs a statement): one profile, source,
 * client and trace id; the events' own fields as arrays.
 */
static void
insert_batch_statement(const AuditEvent *evs, int n, Datum *prevs, bool *pnull, Datum *hashes)
{
	Datum	   *occurred = palloc(sizeof(Datum) * n);
	Datum	   *event = palloc(sizeof(Datum) * n);
	Datum	   *session = palloc(sizeof(Datum) * n);
	Datum	   *group = palloc(sizeof(Datum) * n);
	Datum	   *data = palloc(sizeof(Datum) * n);
	Datum	   *seqs = palloc(sizeof(Datum) * n);
	Datum	   *salts = palloc(sizeof(Datum) * n);
	bool	   *snull = palloc(sizeof(bool) * n);
	bool	   *gnull = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Datum		v[15];
	char		nulls[15];
	const AuditEvent *first = &evs[0];

	for (int i = 0; i < n; i++)
	{
		const AuditEvent *ev = &evs[i];

		CHECK_FOR_INTERRUPTS();
		salts[i] = PointerGetDatum(profile_bytea(ev->salt, PROFILE_SALT_LEN));
		occurred[i] = TimestampTzGetDatum(ev->occurred_at);
		event[i] = CStringGetTextDatum(ev->event);
		session[i] = ev->session_id ? UUIDPGetDatum(ev->session_id) : (Datum) 0;
		snull[i] = ev->session_id == NULL;
		group[i] = ev->transaction_group_id ? UUIDPGetDatum(ev->transaction_group_id) : (Datum) 0;
		gnull[i] = ev->transaction_group_id == NULL;
		data[i] = JsonbPGetDatum(ev->data);
		seqs[i] = Int32GetDatum(ev->chain_seq);
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
	v[14] = PointerGetDatum(construct_md_array(salts, NULL, 1, dims, lbs,
											   BYTEAOID, -1, false, TYPALIGN_INT));
	if (profile_exec(&insert_batch_plan, v, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record audit events");
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
	uint8	   *salt;
	Datum	   *prevs;
	bool	   *pnull;
	Datum	   *hashes;
	const AuditEvent *first = &evs[0];
	RowWriter	w;

	if (n == 0)
		return;
	prevs = palloc(sizeof(Datum) * n);
	pnull = palloc(sizeof(bool) * n);
	hashes = palloc(sizeof(Datum) * n);
	salt = palloc(PROFILE_SALT_LEN * n);
	chain_head(first->tenant_id, &first->profile_id, &seq, prev);
	profile_random_bytes(salt, (size_t) PROFILE_SALT_LEN * n);
	for (int i = 0; i < n; i++)
	{
		AuditEvent *ev = &evs[i];

		CHECK_FOR_INTERRUPTS();
		ev->chain_seq = seq + 1;
		ev->version = 2;
		ev->salt = salt + (size_t) PROFILE_SALT_LEN * i;
		ev->content_hash = NULL;
		profile_event_hash(seq > 0 ? prev : NULL, ev, hash);
		prevs[i] = seq > 0 ? PointerGetDatum(profile_bytea(prev, PROFILE_HASH_LEN)) : (Datum) 0;
		pnull[i] = seq == 0;
		hashes[i] = PointerGetDatum(profile_bytea(hash, PROFILE_HASH_LEN));
		memcpy(prev, hash, PROFILE_HASH_LEN);
		seq = ev->chain_seq;
	}

	/* on one server without a statement where the table allows it */
	if (!profile_citus() && profile_rows_begin(&event_rows, &w))
	{
		for (int i = 0; i < n; i++)
		{
			Datum		v[PROFILE_AUDIT_EVENT_NCOLUMNS];
			char		nulls[PROFILE_AUDIT_EVENT_NCOLUMNS];

			CHECK_FOR_INTERRUPTS();
			event_values(&evs[i], NULL, NULL, v, nulls);
			v[12] = prevs[i];
			nulls[12] = pnull[i] ? 'n' : ' ';
			v[13] = hashes[i];
			profile_rows_put(&w, v, nulls);
		}
		profile_rows_end(&w);
	}
	else
		insert_batch_statement(evs, n, prevs, pnull, hashes);
	remember_head(&evs[n - 1], hash);
}

static SavedPlan insert_firsts_plan = {
	"INSERT INTO profile_data.audit_events (tenant_id, recorded_at, occurred_at,"
	" profile_id, client, source, event, trace_id, data, chain_seq, hash, salt)"
	" SELECT $1, $2, $2, u.profile_id, $3, 'db', 'profile.created', $4, u.data, 1,"
	" u.hash, u.salt"
	" FROM ROWS FROM (pg_catalog.unnest($5), pg_catalog.unnest($6),"
	" pg_catalog.unnest($7), pg_catalog.unnest($8))"
	" AS u(profile_id, data, hash, salt)",
	8, {INT8OID, TIMESTAMPTZOID, TEXTOID, UUIDOID, UUIDARRAYOID, JSONBARRAYOID,
	BYTEAARRAYOID, BYTEAARRAYOID}
};

/*
 * Record the profile.created events of new profiles of one tenant, each
 * the first of its chain, in one statement: evs[i] names its profile and
 * holds its data; tenant, times, client and trace id are evs[0]'s.
 */
void
profile_audit_append_firsts(AuditEvent *evs, int n)
{
	Datum	   *ids;
	Datum	   *data;
	Datum	   *hashes;
	Datum	   *salts;
	uint8	   *salt;
	Datum		v[8];
	char		nulls[8];
	uint8		hash[PROFILE_HASH_LEN];
	RowWriter	w;
	bool		direct;

	if (n == 0)
		return;
	salt = palloc(PROFILE_SALT_LEN * n);
	profile_random_bytes(salt, (size_t) PROFILE_SALT_LEN * n);
	/* on one server without a statement where the table allows it */
	direct = !profile_citus() && profile_rows_begin(&event_rows, &w);
	ids = palloc(sizeof(Datum) * n);
	data = palloc(sizeof(Datum) * n);
	hashes = palloc(sizeof(Datum) * n);
	salts = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		AuditEvent *ev = &evs[i];

		CHECK_FOR_INTERRUPTS();
		ev->chain_seq = 1;
		ev->version = 2;
		ev->salt = salt + (size_t) PROFILE_SALT_LEN * i;
		ev->content_hash = NULL;
		profile_event_hash(NULL, ev, hash);
		if (direct)
		{
			Datum		ev_v[PROFILE_AUDIT_EVENT_NCOLUMNS];
			char		ev_n[PROFILE_AUDIT_EVENT_NCOLUMNS];

			event_values(ev, NULL, hash, ev_v, ev_n);
			profile_rows_put(&w, ev_v, ev_n);
			continue;
		}
		ids[i] = UUIDPGetDatum(&ev->profile_id);
		data[i] = JsonbPGetDatum(ev->data);
		hashes[i] = PointerGetDatum(profile_bytea(hash, PROFILE_HASH_LEN));
		salts[i] = PointerGetDatum(profile_bytea(ev->salt, PROFILE_SALT_LEN));
	}
	if (direct)
	{
		profile_rows_end(&w);
		return;
	}
	memset(nulls, ' ', sizeof(nulls));
	v[0] = Int64GetDatum(evs[0].tenant_id);
	v[1] = TimestampTzGetDatum(evs[0].recorded_at);
	v[2] = evs[0].client ? CStringGetTextDatum(evs[0].client) : (Datum) 0;
	nulls[2] = evs[0].client ? ' ' : 'n';
	v[3] = uuid_or_null(evs[0].trace_id, &nulls[3]);
	v[4] = PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	v[5] = PointerGetDatum(construct_array(data, n, JSONBOID, -1, false, TYPALIGN_INT));
	v[6] = PointerGetDatum(construct_array(hashes, n, BYTEAOID, -1, false, TYPALIGN_INT));
	v[7] = PointerGetDatum(construct_array(salts, n, BYTEAOID, -1, false, TYPALIGN_INT));
	if (profile_exec(&insert_firsts_plan, v, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record audit events");
}
