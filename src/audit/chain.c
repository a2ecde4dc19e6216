/*-------------------------------------------------------------------------
 *
 * src/audit/chain.c
 *		Tamper evidence for the audit trail: the canonical hash of an
 *		event, tenant seals, and the verifier.
 *
 * Per-profile chains.  Each event's hash covers the previous event's hash
 * in the same profile's chain (or a marker for the first) and the event:
 * tenant id, profile id, chain_seq, recorded_at, occurred_at, client,
 * source, event, session id, transaction-group id, trace id and its
 * content -- every field length-prefixed, so no two different events
 * serialise alike.  Altering an event breaks its own hash; removing one
 * leaves a gap in chain_seq; inserting one (with triggers disabled) breaks
 * the hash or the sequence, unless the forger recomputes the chain's tail.
 *
 * Erasure (1.1).  An event's content -- the data document, which holds
 * personal values -- must be removable (profile.erase_profile) without
 * breaking the chain.  So a version 2 hash does not cover the content
 * itself but a commitment to it: content_hash = SHA-256(tag, salt, data),
 * with 16 random bytes of salt kept in the event.  While the content is
 * there the verifier recomputes the commitment from it.  Erasure stores
 * the commitment in the event (content_hash) and removes the data and the
 * salt; without the salt the commitment reveals nothing of the content, not
 * even to someone guessing it (a plain hash of a document holding an email
 * address could be tested against guesses), and the event's hash still
 * covers every kept field.  What is kept of an erased event: its ids
 * (event, profile, session, transaction group, trace), its times, client,
 * source and event name, its place in the chain and its hashes.
 *
 * 1.0's events (version 1, no salt) hash the data text directly, so their
 * hash cannot be recomputed once their content is gone.  Erasing them,
 * erase_profile first checks the profile's whole chain, then records in
 * the profile.erased event it appends -- a version 2 event, so itself
 * covered -- whether the chain held, how many events lost their content,
 * and a digest over each erased 1.0 event's kept fields and stored hash.
 * For an erased 1.0 event the verifier then proves: its place in the chain
 * (the next event, or a seal, commits to its stored hash), its kept fields
 * (they must match the digest of the profile.erased event), and that its
 * content matched its hash when it was erased (erase_profile checked it
 * then, and said so in that event); its content itself can no longer be
 * checked, by design.
 *
 * The verifier also checks that erasure happened only through
 * erase_profile: a chain whose events lost their content must end with a
 * profile.erased event that counts them, and nothing may follow it.
 *
 * Seals.  profile.seal_audit_chain(tenant) records, in a new seal, the
 * head (chain_seq and hash) of every chain that grew since the previous
 * seal; each seal's hash covers the previous seal's hash and its heads.
 * Removing the newest events of a chain (a tail no later event points
 * back to) or a whole chain is caught once a seal covers them; so is a
 * recomputed chain, whose head no longer matches its seal.  Erasure
 * changes no stored hash, so seals stay valid.
 *
 * Guarantees and limits.  Chains are per profile, so concurrent writers in
 * one tenant never wait for each other; writers of one profile are already
 * serialised by its row lock.  Events newer than the last seal can be
 * removed from the tail of their chain undetected; seal often (pg_cron).
 * Someone who can write both the events and the seals can rewrite both:
 * keep the latest seal hash somewhere else (it is in the result of
 * seal_audit_chain) to anchor them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sodium.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "audit/chain.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/json.h"
#include "catalog/cache.h"

static SavedPlan tenant_lock_plan = {
	"SELECT id FROM profile_data.tenants WHERE name OPERATOR(pg_catalog.=) $1"
	" FOR NO KEY UPDATE",
	1, {TEXTOID}
};

static SavedPlan tenant_id_plan = {
	"SELECT id FROM profile_data.tenants WHERE name OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

#define EVENT_COLUMNS \
	"SELECT id, recorded_at, occurred_at, profile_id, client, source," \
	" event, session_id, transaction_group_id, trace_id, data," \
	" chain_seq, prev_hash, hash, salt, content_hash, erased_at" \
	" FROM profile_data.audit_events"
#define N_EVENT_COLUMNS 17

static SavedPlan events_plan = {
	EVENT_COLUMNS
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" ORDER BY profile_id, chain_seq",
	1, {INT8OID}
};

static SavedPlan profile_events_plan = {
	EVENT_COLUMNS
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" AND profile_id OPERATOR(pg_catalog.=) $2"
	" ORDER BY chain_seq FOR UPDATE",
	2, {INT8OID, UUIDOID}
};

static SavedPlan seals_plan = {
	"SELECT seal_seq, sealed_at, sealed_by, heads, prev_hash, hash"
	" FROM profile_data.audit_seals"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 ORDER BY seal_seq",
	1, {INT8OID}
};

static SavedPlan seal_heads_plan = {
	"SELECT h.profile_id, h.chain_seq, h.hash, e.hash, e.id"
	" FROM profile_data.audit_seal_heads h"
	" LEFT JOIN profile_data.audit_events e"
	"   ON e.tenant_id OPERATOR(pg_catalog.=) h.tenant_id"
	"  AND e.profile_id OPERATOR(pg_catalog.=) h.profile_id"
	"  AND e.chain_seq OPERATOR(pg_catalog.=) h.chain_seq"
	" WHERE h.tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND h.seal_seq OPERATOR(pg_catalog.=) $2"
	" ORDER BY h.profile_id",
	2, {INT8OID, INT4OID}
};

static SavedPlan last_seal_plan = {
	"SELECT seal_seq, hash FROM profile_data.audit_seals"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	" ORDER BY seal_seq DESC LIMIT 1",
	1, {INT8OID}
};

static SavedPlan unsealed_heads_plan = {
	"WITH heads AS ("
	"  SELECT DISTINCT ON (profile_id) profile_id, chain_seq, hash"
	"    FROM profile_data.audit_events WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   ORDER BY profile_id, chain_seq DESC),"
	" sealed AS ("
	"  SELECT profile_id, pg_catalog.max(chain_seq) AS s"
	"    FROM profile_data.audit_seal_heads WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   GROUP BY profile_id)"
	" SELECT h.profile_id, h.chain_seq, h.hash FROM heads h"
	" LEFT JOIN sealed s ON s.profile_id OPERATOR(pg_catalog.=) h.profile_id"
	" WHERE s.s IS NULL OR h.chain_seq OPERATOR(pg_catalog.>) s.s"
	" ORDER BY h.profile_id",
	1, {INT8OID}
};

static SavedPlan insert_seal_plan = {
	"INSERT INTO profile_data.audit_seals"
	" (tenant_id, seal_seq, sealed_at, sealed_by, heads, prev_hash, hash)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7)",
	7, {INT8OID, INT4OID, TIMESTAMPTZOID, TEXTOID, INT4OID, BYTEAOID, BYTEAOID}
};

static SavedPlan insert_seal_heads_plan = {
	"INSERT INTO profile_data.audit_seal_heads"
	" (tenant_id, seal_seq, profile_id, chain_seq, hash)"
	" SELECT $1, $2, u.p, u.s, u.h FROM ROWS FROM (pg_catalog.unnest($3),"
	" pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u(p, s, h)",
	5, {INT8OID, INT4OID, UUIDARRAYOID, INT4ARRAYOID, BYTEAARRAYOID}
};

/*
 * Hashing.  The hashes of events, made for every event appended or
 * checked, go through OpenSSL (base/crypto.c: st NULL), one at a time; a
 * digest that stays open while others are made (a walk's, a seal's) is
 * libsodium's state st.  Both are SHA-256.
 */
static void
put_bytes(crypto_hash_sha256_state *st, const void *p, size_t len)
{
	if (st)
		crypto_hash_sha256_update(st, p, len);
	else
		profile_sha256_update(p, len);
}

static void
put_u64(crypto_hash_sha256_state *st, uint64 v)
{
	uint8		b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8) (v >> (56 - 8 * i));
	put_bytes(st, b, 8);
}

static void
put_str(crypto_hash_sha256_state *st, const char *s, size_t len, bool isnull)
{
	put_u64(st, isnull ? UINT64_MAX : (uint64) len);
	if (!isnull)
		put_bytes(st, s, len);
}

static void
put_uuid(crypto_hash_sha256_state *st, const pg_uuid_t *u)
{
	uint8		present = u != NULL;

	put_bytes(st, &present, 1);
	if (u)
		put_bytes(st, u->data, UUID_LEN);
}

/* The bytes of a bytea of exactly len bytes; else NULL, *damaged set. */
static const uint8 *
bytea_bytes(Datum d, size_t len, bool *damaged)
{
	bytea	   *b = DatumGetByteaPP(d);

	if (VARSIZE_ANY_EXHDR(b) != len)
	{
		*damaged = true;
		return NULL;
	}
	return (const uint8 *) VARDATA_ANY(b);
}

/* A stored SHA-256; NULL if null, or (*damaged set) of another length. */
static const uint8 *
bytea_hash(Datum d, bool isnull, bool *damaged)
{
	return isnull ? NULL : bytea_bytes(d, PROFILE_HASH_LEN, damaged);
}

/*
 * The commitment of a version 2 event to its content: SHA-256 over a tag,
 * the salt and the data's jsonb text.
 */
void
profile_event_content_hash(const AuditEvent *ev, uint8 *out)
{
	static const char tag[] = "profile_ext audit content v2";
	int			len;
	char	   *data = profile_jsonb_text(ev->data, &len);

	profile_sha256_begin();
	put_bytes(NULL, tag, sizeof(tag));
	put_bytes(NULL, ev->salt, PROFILE_SALT_LEN);
	put_str(NULL, data, len, false);
	profile_sha256_end(out);
	pfree(data);
}

/* The fields every version hashes, after its tag and the previous hash. */
static void
put_event_fields(crypto_hash_sha256_state *st, const AuditEvent *ev)
{
	put_u64(st, (uint64) ev->tenant_id);
	put_bytes(st, ev->profile_id.data, UUID_LEN);
	put_u64(st, (uint64) ev->chain_seq);
	put_u64(st, (uint64) ev->recorded_at);
	put_u64(st, (uint64) ev->occurred_at);
	put_str(st, ev->client, ev->client ? strlen(ev->client) : 0, ev->client == NULL);
	put_str(st, ev->source, strlen(ev->source), false);
	put_str(st, ev->event, strlen(ev->event), false);
	put_uuid(st, ev->session_id);
	put_uuid(st, ev->transaction_group_id);
	put_uuid(st, ev->trace_id);
}

/*
 * SHA-256 over the previous hash (NULL: first of its chain) and the event:
 * version 1 over the data's text, version 2 over the content's commitment
 * (computed from data and salt, or kept in content_hash once erased).
 */
void
profile_event_hash(const uint8 *prev, const AuditEvent *ev, uint8 *out)
{
	static const char tag1[] = "profile_ext audit event v1";
	static const char tag2[] = "profile_ext audit event v2";
	uint8		has_prev = prev != NULL;
	char	   *data = NULL;
	int			data_len = 0;
	uint8		content[PROFILE_HASH_LEN];

	/* what goes in last is made first: one hash at a time */
	if (ev->version == 1)
		data = profile_jsonb_text(ev->data, &data_len);
	else if (ev->content_hash)
		memcpy(content, ev->content_hash, PROFILE_HASH_LEN);
	else
		profile_event_content_hash(ev, content);

	profile_sha256_begin();
	if (ev->version == 1)
		put_bytes(NULL, tag1, sizeof(tag1));
	else
		put_bytes(NULL, tag2, sizeof(tag2));
	put_bytes(NULL, &has_prev, 1);
	if (prev)
		put_bytes(NULL, prev, PROFILE_HASH_LEN);
	put_event_fields(NULL, ev);
	if (ev->version == 1)
	{
		put_str(NULL, data, data_len, false);
		pfree(data);
	}
	else
		put_bytes(NULL, content, PROFILE_HASH_LEN);
	profile_sha256_end(out);
}

/*
 * Walking a profile's chain, event by event (the verifier, and erasure).
 */
void
profile_chain_start(ChainWalk *w, const pg_uuid_t *profile_id)
{
	static const char tag[] = "profile_ext erased 1.0 events";

	memset(w, 0, sizeof(*w));
	w->profile_id = *profile_id;
	crypto_hash_sha256_init(&w->v1_digest);
	put_bytes(&w->v1_digest, tag, sizeof(tag));
}

/* The kept fields and stored hash of an erased 1.0 event, into the digest. */
static void
digest_v1_event(ChainWalk *w, const AuditEvent *ev, const uint8 *stored)
{
	put_bytes(&w->v1_digest, stored, PROFILE_HASH_LEN);
	put_event_fields(&w->v1_digest, ev);
	w->v1_erased++;
}

/* The digest of the 1.0 events erased so far, as hex (65 bytes). */
void
profile_chain_v1_digest(const ChainWalk *w, char *hex)
{
	crypto_hash_sha256_state st = w->v1_digest;
	uint8		d[PROFILE_HASH_LEN];

	crypto_hash_sha256_final(&st, d);
	sodium_bin2hex(hex, PROFILE_HASH_LEN * 2 + 1, d, PROFILE_HASH_LEN);
}

/* A string member of an erasure record, or NULL. */
static JsonbValue *
record_member(Jsonb *data, const char *key)
{
	JsonbValue	k;

	if (data == NULL || !JB_ROOT_IS_OBJECT(data))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(&data->root, JB_FOBJECT, &k);
}

/* Does a profile.erased event account for what the chain erased? */
static const char *
check_erasure_record(const ChainWalk *w, Jsonb *data)
{
	JsonbValue *n = record_member(data, "events_erased");
	JsonbValue *ok = record_member(data, "verified");
	JsonbValue *digest = record_member(data, "erased_v1_digest");

	if (n == NULL || n->type != jbvNumeric ||
		DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(n->val.numeric))) != w->erased)
		return "the profile.erased event does not count the events whose content was removed";
	if (w->v1_erased > 0)
	{
		char		hex[PROFILE_HASH_LEN * 2 + 1];

		profile_chain_v1_digest(w, hex);
		if (digest == NULL || digest->type != jbvString ||
			digest->val.string.len != PROFILE_HASH_LEN * 2 ||
			memcmp(digest->val.string.val, hex, PROFILE_HASH_LEN * 2) != 0)
			return "an erased 1.0 event's kept fields or hash changed after its erasure";
	}
	if (ok == NULL || ok->type != jbvBool || !ok->val.boolean)
		return "the chain was already broken when the profile was erased";
	return NULL;
}

/*
 * Check the next event of the chain w walks: its place, its hash and, for
 * erasure, what it may hold.  On success the event's hash is in hash and
 * NULL is returned; else the reason.  ev->version, salt and content_hash
 * come from the row; erased: its erased_at is set.
 */
const char *
profile_chain_step(ChainWalk *w, AuditEvent *ev, bool erased,
				   const uint8 *prev, const uint8 *stored, uint8 *hash)
{
	if (w->closed)
		return "an event follows the profile's erasure";
	if (ev->chain_seq != w->last_seq + 1)
		return w->last_seq == 0 ? "the chain does not start at 1: its first events are missing" :
			"chain_seq skips: an event before this one is missing";
	if ((w->last_seq == 0) != (prev == NULL) ||
		(prev && memcmp(prev, w->last_hash, PROFILE_HASH_LEN) != 0))
		return "prev_hash is not the hash of the event before it";
	if (stored == NULL)
		return "the event's hash is missing or damaged";

	if (erased)
	{
		if (ev->data != NULL || ev->salt != NULL)
			return "an erased event still holds content";
		if (strcmp(ev->event, "profile.erased") == 0)
			return "the erasure record itself lost its content";
		if (ev->content_hash)
		{
			ev->version = 2;
			profile_event_hash(prev, ev, hash);
		}
		else
		{
			/* 1.0's hash cannot be recomputed: the erasure record vouches */
			memcpy(hash, stored, PROFILE_HASH_LEN);
			digest_v1_event(w, ev, stored);
		}
		w->erased++;
	}
	else
	{
		if (ev->data == NULL || ev->content_hash != NULL)
			return "an event lost its content without being erased";
		ev->version = ev->salt ? 2 : 1;
		profile_event_hash(prev, ev, hash);
	}
	if (memcmp(hash, stored, PROFILE_HASH_LEN) != 0)
		return "hash does not match the event's content: it was altered";
	if (!erased && strcmp(ev->event, "profile.erased") == 0 && strcmp(ev->source, "db") == 0)
	{
		const char *r = check_erasure_record(w, ev->data);

		if (r)
			return r;
		w->closed = true;
	}
	w->last_seq = ev->chain_seq;
	memcpy(w->last_hash, hash, PROFILE_HASH_LEN);
	w->events++;
	return NULL;
}

/* At the end of a chain: content removed only by erase_profile. */
const char *
profile_chain_end(const ChainWalk *w)
{
	if (w->erased > 0 && !w->closed)
		return "events lost their content outside erase_profile";
	return NULL;
}

/*
 * An event row of EVENT_COLUMNS as an AuditEvent, in the current memory
 * context; false if a column that is never null is null.
 */
bool
profile_chain_read_row(HeapTuple tup, TupleDesc desc, int64 tenant_id, ChainRow *row)
{
	bool		n[N_EVENT_COLUMNS];
	Datum		d[N_EVENT_COLUMNS];
	AuditEvent *ev = &row->ev;
	bool		stored_damaged = false;

	for (int c = 0; c < N_EVENT_COLUMNS; c++)
		d[c] = SPI_getbinval(tup, desc, c + 1, &n[c]);
	memset(row, 0, sizeof(*row));
	row->id = n[0] ? -1 : DatumGetInt64(d[0]);
	if (!n[3])
		ev->profile_id = *DatumGetUUIDP(d[3]);
	ev->chain_seq = n[11] ? 0 : DatumGetInt32(d[11]);
	/* what an erasure of a damaged row needs, too */
	ev->data = n[10] ? NULL : DatumGetJsonbP(d[10]);
	ev->salt = n[14] ? NULL : bytea_bytes(d[14], PROFILE_SALT_LEN, &row->damaged);
	row->erased = !n[16];
	if (n[0] || n[1] || n[2] || n[3] || n[5] || n[6] || n[11])
		return false;
	ev->tenant_id = tenant_id;
	ev->recorded_at = DatumGetTimestampTz(d[1]);
	ev->occurred_at = DatumGetTimestampTz(d[2]);
	ev->client = n[4] ? NULL : TextDatumGetCString(d[4]);
	ev->source = TextDatumGetCString(d[5]);
	ev->event = TextDatumGetCString(d[6]);
	ev->session_id = n[7] ? NULL : DatumGetUUIDP(d[7]);
	ev->transaction_group_id = n[8] ? NULL : DatumGetUUIDP(d[8]);
	ev->trace_id = n[9] ? NULL : DatumGetUUIDP(d[9]);
	row->prev = bytea_hash(d[12], n[12], &row->damaged);
	/* a damaged hash of its own: profile_chain_step says so */
	row->stored = bytea_hash(d[13], n[13], &stored_damaged);
	ev->content_hash = n[15] ? NULL : bytea_bytes(d[15], PROFILE_HASH_LEN, &row->damaged);
	return true;
}

/*
 * The events of one profile, locked, in chain order, into SPI_tuptable
 * (rows for profile_chain_read_row); their number.
 */
uint64
profile_chain_lock_events(int64 tenant_id, const pg_uuid_t *profile_id)
{
	Datum		args[2];

	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(profile_id);
	profile_exec(&profile_events_plan, args, NULL, false, 0);
	return SPI_processed;
}

/* The id of a tenant, or TENANT_NOT_FOUND.  SPI must be connected. */
static int64
tenant_id_of(const char *name, bool lock)
{
	Datum		arg = CStringGetTextDatum(name);
	pg_uuid_t	trace_id;

	profile_exec(lock ? &tenant_lock_plan : &tenant_id_plan, &arg, NULL, !lock, 1);
	if (SPI_processed == 0)
	{
		profile_uuid_v4(&trace_id);
		profile_raise(PE_E_TENANT_NOT_FOUND, &trace_id, NULL, NULL,
					  "tenant \"%s\" does not exist", name);
	}
	return DatumGetInt64(profile_spi_required(0, 1, "tenants"));
}

/* The first broken link, as the verifier reports it. */
static Jsonb *
broken(const char *kind, int64 checked, int64 event_id, const pg_uuid_t *profile,
	   int32 seq, const char *reason)
{
	JsonbParseState *st = NULL;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_bool(&st, "ok", false);
	profile_push_int(&st, "events", checked);
	profile_push_key(&st, "broken");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_text(&st, "kind", kind);
	if (event_id >= 0)
		profile_push_int(&st, "event_id", event_id);
	if (profile)
		profile_push_uuid(&st, "profile_id", profile);
	profile_push_int(&st, kind[0] == 's' && strcmp(kind, "seal") == 0 ? "seal_seq" : "chain_seq", seq);
	profile_push_text(&st, "reason", reason);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/* Walk every chain of the tenant; NULL if all hold, else the first break. */
static Jsonb *
verify_events(int64 tenant_id, int64 *count, int64 *erased)
{
	Datum		arg = Int64GetDatum(tenant_id);
	Portal		portal;
	ChainWalk	w;
	bool		have = false;
	const char *r;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext,
												 "verify_audit_chain row",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;

	portal = profile_cursor_open(&events_plan, &arg, NULL);
	*count = 0;
	*erased = 0;
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			ChainRow	row;
			uint8		hash[PROFILE_HASH_LEN];
			bool		whole;

			CHECK_FOR_INTERRUPTS();
			MemoryContextReset(rowcxt);
			old = MemoryContextSwitchTo(rowcxt);
			whole = profile_chain_read_row(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
										   tenant_id, &row);
			MemoryContextSwitchTo(old);
			if (!whole || row.damaged)
				return broken("event", *count, row.id, &row.ev.profile_id, row.ev.chain_seq,
							  "a column that is never null is null, or a hash or salt has the wrong length: the event was damaged");
			if (!have || memcmp(&w.profile_id, &row.ev.profile_id, sizeof(pg_uuid_t)) != 0)
			{
				if (have && (r = profile_chain_end(&w)) != NULL)
					return broken("event", *count, -1, &w.profile_id, w.last_seq, r);
				*count += have ? w.events : 0;
				*erased += have ? w.erased : 0;
				profile_chain_start(&w, &row.ev.profile_id);
				have = true;
			}
			old = MemoryContextSwitchTo(rowcxt);
			r = profile_chain_step(&w, &row.ev, row.erased, row.prev, row.stored, hash);
			MemoryContextSwitchTo(old);
			if (r)
				return broken("event", *count + w.events, row.id, &row.ev.profile_id,
							  row.ev.chain_seq, r);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	if (have && (r = profile_chain_end(&w)) != NULL)
		return broken("event", *count + w.events, -1, &w.profile_id, w.last_seq, r);
	*count += have ? w.events : 0;
	*erased += have ? w.erased : 0;
	return NULL;
}

/* SHA-256 of a seal: the previous seal's hash and the heads it covers. */
typedef struct SealHead
{
	pg_uuid_t	profile_id;
	int32		chain_seq;
	uint8		hash[PROFILE_HASH_LEN];
} SealHead;

static void
seal_hash(const uint8 *prev, int64 tenant_id, int32 seal_seq, TimestampTz sealed_at,
		  const char *sealed_by, const SealHead *heads, int n, uint8 *out)
{
	crypto_hash_sha256_state st;
	static const char tag[] = "profile_ext audit seal v1";
	uint8		has_prev = prev != NULL;

	crypto_hash_sha256_init(&st);
	put_bytes(&st, tag, sizeof(tag));
	put_bytes(&st, &has_prev, 1);
	if (prev)
		put_bytes(&st, prev, PROFILE_HASH_LEN);
	put_u64(&st, (uint64) tenant_id);
	put_u64(&st, (uint64) seal_seq);
	put_u64(&st, (uint64) sealed_at);
	put_str(&st, sealed_by, strlen(sealed_by), false);
	put_u64(&st, (uint64) n);
	for (int i = 0; i < n; i++)
	{
		put_bytes(&st, heads[i].profile_id.data, UUID_LEN);
		put_u64(&st, (uint64) heads[i].chain_seq);
		put_bytes(&st, heads[i].hash, PROFILE_HASH_LEN);
	}
	crypto_hash_sha256_final(&st, out);
}

/* Check every seal of the tenant; NULL if all hold. */
static Jsonb *
verify_seals(int64 tenant_id, int64 events, int64 *nseals)
{
	Datum		arg = Int64GetDatum(tenant_id);
	SPITupleTable *seals;
	uint64		nseal;
	uint8		prev[PROFILE_HASH_LEN];

	profile_exec(&seals_plan, &arg, NULL, true, 0);
	seals = SPI_tuptable;
	nseal = SPI_processed;
	*nseals = (int64) nseal;
	for (uint64 i = 0; i < nseal; i++)
	{
		bool		n[6];
		Datum		d[6];
		int32		seq;
		const uint8 *sprev;
		const uint8 *stored;
		SealHead   *heads;
		int			nheads;
		Datum		args[2];
		uint8		hash[PROFILE_HASH_LEN];
		bool		damaged = false;

		CHECK_FOR_INTERRUPTS();
		for (int c = 0; c < 6; c++)
			d[c] = SPI_getbinval(seals->vals[i], seals->tupdesc, c + 1, &n[c]);
		if (n[0] || n[1] || n[2] || n[3])
			return broken("seal", events, -1, NULL, n[0] ? 0 : DatumGetInt32(d[0]),
						  "a column that is never null is null: the seal was damaged");
		seq = DatumGetInt32(d[0]);
		sprev = bytea_hash(d[4], n[4], &damaged);
		if (damaged)
			return broken("seal", events, -1, NULL, seq,
						  "prev_hash has the wrong length: the seal was damaged");
		/* one of another length does not match below */
		stored = bytea_hash(d[5], n[5], &damaged);
		if (seq != (int32) i + 1)
			return broken("seal", events, -1, NULL, seq, "seal_seq skips: a seal is missing");
		if ((i == 0) != (sprev == NULL) || (sprev && memcmp(sprev, prev, PROFILE_HASH_LEN) != 0))
			return broken("seal", events, -1, NULL, seq, "prev_hash is not the hash of the seal before it");

		args[0] = Int64GetDatum(tenant_id);
		args[1] = Int32GetDatum(seq);
		profile_exec(&seal_heads_plan, args, NULL, true, 0);
		nheads = (int) SPI_processed;
		heads = palloc(sizeof(SealHead) * Max(nheads, 1));
		for (int h = 0; h < nheads; h++)
		{
			bool		hn[5];
			Datum		hd[5];
			const uint8 *hh;
			const uint8 *eh;
			bool		head_damaged = false;

			CHECK_FOR_INTERRUPTS();
			for (int c = 0; c < 5; c++)
				hd[c] = SPI_getbinval(SPI_tuptable->vals[h], SPI_tuptable->tupdesc, c + 1, &hn[c]);
			if (hn[0] || hn[1])
				return broken("seal", events, -1, NULL, seq,
							  "a sealed head was damaged");
			heads[h].profile_id = *DatumGetUUIDP(hd[0]);
			heads[h].chain_seq = DatumGetInt32(hd[1]);
			hh = bytea_hash(hd[2], hn[2], &head_damaged);
			eh = bytea_hash(hd[3], hn[3], &head_damaged);
			if (hh == NULL || head_damaged)
				return broken("seal", events, -1, &heads[h].profile_id, seq, "a sealed head is damaged");
			memcpy(heads[h].hash, hh, PROFILE_HASH_LEN);
			if (eh == NULL)
				return broken("seal", events, -1, &heads[h].profile_id, seq,
							  "a sealed event is missing: events were removed");
			if (memcmp(eh, hh, PROFILE_HASH_LEN) != 0)
				return broken("seal", events, DatumGetInt64(hd[4]), &heads[h].profile_id, seq,
							  "a sealed event's hash changed: its chain was rewritten");
		}
		seal_hash(sprev, tenant_id, seq, DatumGetTimestampTz(d[1]),
				  TextDatumGetCString(d[2]), heads, nheads, hash);
		if (DatumGetInt32(d[3]) != nheads || stored == NULL ||
			memcmp(hash, stored, PROFILE_HASH_LEN) != 0)
			return broken("seal", events, -1, NULL, seq, "the seal's hash does not match its heads");
		memcpy(prev, hash, PROFILE_HASH_LEN);
	}
	return NULL;
}

PG_FUNCTION_INFO_V1(verify_audit_chain);

/* profile.verify_audit_chain(tenant text) RETURNS jsonb */
Datum
verify_audit_chain(PG_FUNCTION_ARGS)
{
	char	   *tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext callcxt = CurrentMemoryContext;
	int64		tenant_id;
	int64		events;
	int64		erased;
	int64		seals = 0;
	Jsonb	   *result;
	OwnerSection owner;

	profile_begin_as_owner(&owner);
	tenant_id = tenant_id_of(tenant, false);
	result = verify_events(tenant_id, &events, &erased);
	if (result == NULL)
		result = verify_seals(tenant_id, events, &seals);
	if (result == NULL)
	{
		JsonbParseState *st = NULL;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		profile_push_bool(&st, "ok", true);
		profile_push_int(&st, "events", events);
		profile_push_int(&st, "erased", erased);
		profile_push_int(&st, "seals", seals);
		result = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	}
	MemoryContextSwitchTo(callcxt);
	result = DatumGetJsonbPCopy(JsonbPGetDatum(result));
	profile_owner_end(&owner);
	PG_RETURN_JSONB_P(result);
}

/*
 * Record a seal (arguments: tenant_id, seal_seq, sealed_at, sealed_by,
 * heads, prev_hash, hash).  Sealers of one tenant are serialised by the
 * tenant row's lock; under REPEATABLE READ or SERIALIZABLE the second
 * cannot see the first one's seal and would take its seal_seq: that is a
 * serialization failure (40001), for the client to retry, not a unique
 * violation.
 */
static void
insert_seal(Datum *args, const char *nulls, const char *tenant)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		profile_exec(&insert_seal_plan, args, nulls, false, 0);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION && IsolationUsesXactSnapshot())
		{
			FlushErrorState();
			ereport(ERROR,
					errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					errmsg("could not serialize access due to a concurrent seal of tenant \"%s\"",
						   tenant),
					errhint("Retry the transaction."));
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(seal_audit_chain);

/* profile.seal_audit_chain(tenant text) RETURNS jsonb */
Datum
seal_audit_chain(PG_FUNCTION_ARGS)
{
	char	   *tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext callcxt = CurrentMemoryContext;
	int64		tenant_id;
	int32		seq = 0;
	uint8		prev[PROFILE_HASH_LEN];
	uint8		hash[PROFILE_HASH_LEN];
	SealHead   *heads;
	int			n;
	Datum		a1[1];
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	char	   *by;
	JsonbParseState *st = NULL;
	Jsonb	   *result;
	OwnerSection owner;

	/* the role that called: this function runs as its definer */
	by = GetUserNameFromId(GetOuterUserId(), false);
	profile_begin_as_owner(&owner);
	/* one sealer per tenant at a time; creates are not held up */
	tenant_id = tenant_id_of(tenant, true);
	a1[0] = Int64GetDatum(tenant_id);
	profile_exec(&last_seal_plan, a1, NULL, false, 1);
	if (SPI_processed > 0)
	{
		seq = DatumGetInt32(profile_spi_required(0, 1, "audit_seals"));
		memcpy(prev, profile_spi_hash_required(0, 2, "audit_seals"), PROFILE_HASH_LEN);
	}

	profile_exec(&unsealed_heads_plan, a1, NULL, false, 0);
	n = (int) SPI_processed;
	heads = palloc(sizeof(SealHead) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		heads[i].profile_id = *DatumGetUUIDP(profile_spi_required(i, 1, "audit_events"));
		heads[i].chain_seq = DatumGetInt32(profile_spi_required(i, 2, "audit_events"));
		memcpy(heads[i].hash, profile_spi_hash_required(i, 3, "audit_events"), PROFILE_HASH_LEN);
	}

	if (n > 0)
	{
		Datum		a2[7];
		char		n2[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
		Datum		a3[5];
		Datum	   *pids = palloc(sizeof(Datum) * n);
		Datum	   *seqs = palloc(sizeof(Datum) * n);
		Datum	   *hashes = palloc(sizeof(Datum) * n);

		seal_hash(seq > 0 ? prev : NULL, tenant_id, seq + 1, now, by, heads, n, hash);
		a2[0] = Int64GetDatum(tenant_id);
		a2[1] = Int32GetDatum(seq + 1);
		a2[2] = TimestampTzGetDatum(now);
		a2[3] = CStringGetTextDatum(by);
		a2[4] = Int32GetDatum(n);
		a2[5] = seq > 0 ? PointerGetDatum(profile_bytea(prev, PROFILE_HASH_LEN)) : (Datum) 0;
		n2[5] = seq > 0 ? ' ' : 'n';
		a2[6] = PointerGetDatum(profile_bytea(hash, PROFILE_HASH_LEN));
		insert_seal(a2, n2, tenant);
		for (int i = 0; i < n; i++)
		{
			pids[i] = UUIDPGetDatum(&heads[i].profile_id);
			seqs[i] = Int32GetDatum(heads[i].chain_seq);
			hashes[i] = PointerGetDatum(profile_bytea(heads[i].hash, PROFILE_HASH_LEN));
		}
		a3[0] = Int64GetDatum(tenant_id);
		a3[1] = Int32GetDatum(seq + 1);
		a3[2] = PointerGetDatum(construct_array(pids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
		a3[3] = PointerGetDatum(construct_array(seqs, n, INT4OID, 4, true, TYPALIGN_INT));
		a3[4] = PointerGetDatum(construct_array(hashes, n, BYTEAOID, -1, false, TYPALIGN_INT));
		profile_exec(&insert_seal_heads_plan, a3, NULL, false, 0);
	}

	MemoryContextSwitchTo(callcxt);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_bool(&st, "sealed", n > 0);
	profile_push_int(&st, "seal_seq", n > 0 ? seq + 1 : seq);
	profile_push_int(&st, "heads", n);
	if (n > 0)
	{
		char		hex[PROFILE_HASH_LEN * 2 + 1];

		sodium_bin2hex(hex, sizeof(hex), hash, PROFILE_HASH_LEN);
		profile_push_text(&st, "hash", hex);
	}
	result = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	profile_owner_end(&owner);
	PG_RETURN_JSONB_P(result);
}
