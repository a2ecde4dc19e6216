/*-------------------------------------------------------------------------
 *
 * src/audit/chain.h
 *		Tamper evidence: the canonical hash of an event (chain.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_CHAIN_H
#define PROFILE_CHAIN_H

#include <sodium.h>

#include "access/htup.h"
#include "access/tupdesc.h"

#include "audit/audit.h"

/* A walk along one profile's chain (chain.c, "Erasure"). */
typedef struct ChainWalk
{
	pg_uuid_t	profile_id;
	int32		last_seq;		/* 0: no event yet */
	uint8		last_hash[PROFILE_HASH_LEN];
	int64		events;			/* checked */
	int64		erased;			/* of them, erased */
	int64		v1_erased;		/* of those, 1.0 events */
	bool		closed;			/* the profile.erased event was seen */
	crypto_hash_sha256_state v1_digest; /* of the erased 1.0 events */
} ChainWalk;

/* An event as stored (profile_chain_read_row). */
typedef struct ChainRow
{
	int64		id;
	AuditEvent	ev;
	const uint8 *prev;			/* NULL: none, or damaged */
	const uint8 *stored;		/* its hash column; NULL if damaged */
	bool		erased;
	bool		damaged;		/* a salt or content hash of another length */
} ChainRow;

extern void profile_event_hash(const uint8 *prev, const AuditEvent *ev,
							   uint8 *out);
extern void profile_event_content_hash(const AuditEvent *ev, uint8 *out);
extern void profile_chain_start(ChainWalk *w, const pg_uuid_t *profile_id);
extern const char *profile_chain_step(ChainWalk *w, AuditEvent *ev, bool erased,
									  const uint8 *prev, const uint8 *stored,
									  uint8 *hash);
extern const char *profile_chain_end(const ChainWalk *w);
extern void profile_chain_v1_digest(const ChainWalk *w, char *hex);
extern bool profile_chain_read_row(HeapTuple tup, TupleDesc desc, int64 tenant_id,
								   ChainRow *row);
extern uint64 profile_chain_lock_events(int64 tenant_id, const pg_uuid_t *profile_id);

#endif							/* PROFILE_CHAIN_H */
