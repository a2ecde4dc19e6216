/*-------------------------------------------------------------------------
 *
 * src/api/lifecycle.h
 *		Reading, deleting and erasing profiles (lifecycle.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_LIFECYCLE_H
#define PROFILE_LIFECYCLE_H

#include "model/caller.h"

extern void profile_call_open_on_id(ApiCall *ctx, const char *function, bool writes,
									Jsonb *payload, ProfileInput *in,
									const pg_uuid_t *id, bool fields);

#endif							/* PROFILE_LIFECYCLE_H */
