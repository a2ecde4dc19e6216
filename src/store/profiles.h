/*-------------------------------------------------------------------------
 *
 * src/store/profiles.h
 *		Writing profiles and probing uniqueness (profiles.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_STORE_PROFILES_H
#define PROFILE_STORE_PROFILES_H

#include "model/caller.h"
#include "model/fields.h"

extern bool profile_insert_row(const ApiCall *ctx, const ProfileRow *row, bool fresh);
extern const char *profile_taken_field(int64 tenant_id, const Datum *values,
									   const bool *isnull, const pg_uuid_t *exclude);
extern void profile_raise_if_taken(const pg_uuid_t *trace_id, int64 tenant_id,
								   const Datum *values, const bool *isnull,
								   const pg_uuid_t *exclude, const char *fallback);
extern bool profile_select_for_update(int64 tenant_id, const pg_uuid_t *id,
									  ProfileRow *row);
extern void profile_update_row(const ApiCall *ctx, const ProfileRow *row);

#endif							/* PROFILE_STORE_PROFILES_H */
