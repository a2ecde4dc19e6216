/*-------------------------------------------------------------------------
 *
 * src/catalog/ratelimit.h
 *		Rate limits per client and tenant in shared memory (ratelimit.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_RATELIMIT_H
#define PROFILE_RATELIMIT_H

#include "utils/uuid.h"

#include "catalog/settings.h"

extern void profile_rate_limit_init(void);
extern void profile_require_preload(void);
extern void profile_rate_limit(int64 client_id, const char *client,
							   const TenantInfo *t, const pg_uuid_t *trace_id);

#endif							/* PROFILE_RATELIMIT_H */
