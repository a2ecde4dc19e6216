/*-------------------------------------------------------------------------
 *
 * src/store/idempotency.h
 *		Idempotency keys (idempotency.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_IDEMPOTENCY_H
#define PROFILE_IDEMPOTENCY_H

#include "model/caller.h"

typedef struct Idempotency
{
	char	   *key;			/* NULL: the call has none */
	const char *function;
	uint8		request_hash[32];
	int			n_passwords;	/* entries of the two arrays, one per item */
	int			max_passwords;	/* their room */
	char	  **passwords;		/* the request's, NULL where none */
	char	  **password_hashes;	/* Argon2id hashes of them, where known */
} Idempotency;

extern Jsonb *profile_idempotency_begin(ApiCall *ctx, const ProfileInput *in,
										const char *function, Idempotency *idem,
										Jsonb *payload, int items, const pg_uuid_t *extra);
extern void profile_idempotency_keep(ApiCall *ctx, Idempotency *idem, Jsonb *result,
									 int status, const pg_uuid_t *ids, int n);
extern void profile_idempotency_forget(int64 tenant_id, const pg_uuid_t *profile_id);
extern int64 profile_idempotency_purge(int64 tenant_id, TimestampTz now, int64 max);
extern int64 profile_idempotency_purge_all(int64 tenant_id, TimestampTz now);

#endif							/* PROFILE_IDEMPOTENCY_H */
