/*-------------------------------------------------------------------------
 *
 * src/store/profiles.h
 *		Writing profiles and probing uniqueness (profiles.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_STORE_PROFILES_H
#define PROFILE_STORE_PROFILES_H

#include "audit/audit.h"
#include "model/caller.h"
#include "model/fields.h"

extern void profile_insert_row(const ApiCall *ctx, const ProfileRow *row);
extern void profile_created_event(const ApiCall *ctx, const ProfileRow *row, Jsonb *doc,
								  AuditEvent *ev);
extern void profile_insert_rows(const ApiCall *ctx, ProfileRow **rows, int n,
								bool *inserted, Jsonb **docs);
extern const char *profile_taken_field(int64 tenant_id, const ProfileRow *row,
									   const pg_uuid_t *exclude);
extern void profile_raise_if_taken(const pg_uuid_t *trace_id, int64 tenant_id,
								   const ProfileRow *row, const pg_uuid_t *exclude,
								   const char *fallback);
extern void profile_reclaim_keys(int64 tenant_id, ProfileRow *row);
extern void profile_claim_ids(const pg_uuid_t *ids, int n, int64 tenant_id, TimestampTz now);
extern bool profile_claim_id(const pg_uuid_t *id, int64 tenant_id, TimestampTz now);
extern bool profile_select_for_update(int64 tenant_id, const pg_uuid_t *id,
									  ProfileRow *row);
extern int	profile_skeleton_groups(int64 tenant_id, char **groups, int max);
extern void profile_rekey_usernames(int64 tenant_id);
extern bool profile_rekeying(int64 tenant_id);
extern void profile_update_row(const ApiCall *ctx, const ProfileRow *row);
extern bool profile_id_tenant(const pg_uuid_t *id, int64 *tenant_id, bool *erased,
							  bool fresh);
extern bool profile_read(int64 tenant_id, const pg_uuid_t *id, ProfileRow *row);
extern bool profile_find_by_key(int64 tenant_id, ProfileKey kind, Datum key,
								Datum skeleton, Datum shape, bool has_skeleton,
								ProfileRow *row);
extern void profile_delete_row(const ApiCall *ctx, const ProfileRow *row, bool erasing);
extern void profile_mark_erased(int64 tenant_id, const pg_uuid_t *id, TimestampTz now);

#endif							/* PROFILE_STORE_PROFILES_H */
