/*-------------------------------------------------------------------------
 *
 * src/audit/erasure.c
 *		Erasing a profile's personal values from its audit events, keeping
 *		its chain verifiable (the design: chain.c, "Erasure").
 *
 * profile_audit_erase walks the profile's chain with its events locked,
 * checking it as the verifier does; then, in one statement, it removes
 * each event's content (data and salt), keeping for a version 2 event its
 * commitment (content_hash); last it appends the profile.erased event that
 * records how many events lost their content, whether the chain held, and
 * the digest that vouches for erased 1.0 events.  The audit tables are
 * append-only for every role (audit/trigger.c): the one exception is this
 * statement, which the trigger recognises by its shape -- the owner's
 * update that only removes content and keeps its commitment -- and
 * verify_audit_chain reports any such update no profile.erased event
 * accounts for.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "audit/chain.h"
#include "audit/erasure.h"
#include "base/crypto.h"
#include "base/json.h"

static SavedPlan erase_plan = {
	"UPDATE profile_data.audit_events e"
	"   SET data = NULL, salt = NULL, content_hash = u.h, erased_at = $2"
	"  FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4)) AS u(id, h)"
	" WHERE e.tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND e.id OPERATOR(pg_catalog.=) u.id",
	4, {INT8OID, TIMESTAMPTZOID, INT8ARRAYOID, BYTEAARRAYOID}
};

/*
 * Remove the content of every event of the profile and record the
 * profile.erased event (ev: its tenant, profile, times, client and trace
 * id; the rest is filled in here).  The caller set the audit context with
 * erasing on.  SPI must be connected.
 *
 * Two walks go along the chain at once: one checks it as it is (did it
 * hold?), the other as the verifier will see it once erased, to take the
 * digest of the erased 1.0 events.
 */
void
profile_audit_erase(AuditEvent *ev, ErasureResult *res)
{
	uint64		n = profile_chain_lock_events(ev->tenant_id, &ev->profile_id);
	SPITupleTable *rows = SPI_tuptable;
	ChainWalk	before,
				after;
	Datum	   *ids = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *commitments = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
	int			k = 0;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext,
												 "erase_profile row",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	JsonbParseState *st = NULL;

	memset(res, 0, sizeof(*res));
	res->verified = true;
	profile_chain_start(&before, &ev->profile_id);
	profile_chain_start(&after, &ev->profile_id);
	for (uint64 i = 0; i < n; i++)
	{
		ChainRow	row;
		uint8		hash[PROFILE_HASH_LEN];
		uint8		content[PROFILE_HASH_LEN];
		bool		v2;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(rowcxt);
		old = MemoryContextSwitchTo(rowcxt);
		if (!profile_chain_read_row(rows->vals[i], rows->tupdesc, ev->tenant_id, &row) ||
			row.damaged)
		{
			/*
			 * erased all the same (it is the law); the record says so.  An
			 * event already erased has nothing left to remove; one whose salt
			 * and data are intact keeps their commitment, as the trigger
			 * requires.
			 */
			res->verified = false;
			v2 = row.ev.salt != NULL && row.ev.data != NULL;
			if (v2)
				profile_event_content_hash(&row.ev, content);
			MemoryContextSwitchTo(old);
			if (row.id >= 0 && !row.erased)
			{
				ids[k] = Int64GetDatum(row.id);
				nulls[k] = !v2;
				commitments[k++] = v2 ? PointerGetDatum(profile_bytea(content, PROFILE_HASH_LEN)) :
					(Datum) 0;
			}
			continue;
		}

		/*
		 * A profile is erased once: an event whose content is gone already
		 * lost it outside erase_profile (the trigger lets the owner's
		 * erasure-shaped updates through), and the record must not vouch for
		 * it.
		 */
		if (row.erased)
			res->verified = false;
		v2 = row.ev.salt != NULL && row.ev.data != NULL;
		if (!row.erased && v2)
			profile_event_content_hash(&row.ev, content);
		if (res->verified &&
			profile_chain_step(&before, &row.ev, row.erased, row.prev, row.stored, hash) != NULL)
			res->verified = false;
		if (!row.erased)
		{
			/* the event as it will be */
			row.ev.data = NULL;
			row.ev.salt = NULL;
			row.ev.content_hash = v2 ? content : NULL;
		}
		if (res->verified &&
			profile_chain_step(&after, &row.ev, true, row.prev, row.stored, hash) != NULL)
			res->verified = false;
		MemoryContextSwitchTo(old);
		if (!row.erased)
		{
			ids[k] = Int64GetDatum(row.id);
			nulls[k] = !v2;
			commitments[k++] = v2 ? PointerGetDatum(profile_bytea(content, PROFILE_HASH_LEN)) :
				(Datum) 0;
		}
	}
	MemoryContextDelete(rowcxt);
	res->events_erased = (int64) n;

	if (k > 0)
	{
		Datum		args[4];
		int			dims[1] = {k};
		int			lbs[1] = {1};

		args[0] = Int64GetDatum(ev->tenant_id);
		args[1] = TimestampTzGetDatum(ev->recorded_at);
		args[2] = PointerGetDatum(construct_md_array(ids, NULL, 1, dims, lbs,
													 INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[3] = PointerGetDatum(construct_md_array(commitments, nulls, 1, dims, lbs,
													 BYTEAOID, -1, false, TYPALIGN_INT));
		profile_exec(&erase_plan, args, NULL, false, 0);
		if (SPI_processed != (uint64) k)
			elog(ERROR, "erase_profile: %d events to erase, " UINT64_FORMAT " erased",
				 k, SPI_processed);
	}

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_int(&st, "events_erased", res->events_erased);
	profile_push_bool(&st, "verified", res->verified);
	if (res->verified && after.v1_erased > 0)
	{
		char		hex[PROFILE_HASH_LEN * 2 + 1];

		profile_chain_v1_digest(&after, hex);
		profile_push_text(&st, "erased_v1_digest", hex);
	}
	ev->data = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	ev->source = "db";
	ev->event = "profile.erased";
	profile_audit_append(ev);
}
