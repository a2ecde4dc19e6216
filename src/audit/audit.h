/*-------------------------------------------------------------------------
 *
 * src/audit/audit.h
 *		The audit trail: appending hash-chained events, and the context an
 *		API call gives the triggers (audit.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_AUDIT_H
#define PROFILE_AUDIT_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "base/spi.h"

#define PROFILE_HASH_LEN 32
#define PROFILE_SALT_LEN 16

/* One audit event, as appended and as hashed. */
typedef struct AuditEvent
{
	int64		tenant_id;
	pg_uuid_t	profile_id;
	int32		chain_seq;		/* set by profile_audit_append */
	TimestampTz recorded_at;
	TimestampTz occurred_at;
	const char *client;			/* may be NULL */
	const char *source;			/* "db" or "sdk" */
	const char *event;
	const pg_uuid_t *session_id;	/* may be NULL */
	const pg_uuid_t *transaction_group_id;	/* may be NULL */
	const pg_uuid_t *trace_id;	/* may be NULL */
	Jsonb	   *data;			/* NULL once erased */
	int			version;		/* of the hash: 1 (1.0) or 2 (chain.c) */
	const uint8 *salt;			/* version 2: PROFILE_SALT_LEN bytes */
	const uint8 *content_hash;	/* version 2, erased: the commitment kept */
} AuditEvent;

extern void profile_audit_init(void);
extern void profile_audit_set_context(const pg_uuid_t *trace_id, const char *client,
									  int64 tenant_id, const pg_uuid_t *profile_id,
									  bool fresh);
extern void profile_audit_clear_context(void);
extern void profile_audit_set_erasing(void);
extern bool profile_audit_erasing(int64 tenant_id, const pg_uuid_t *profile_id);
extern bool profile_audit_context_matches(int64 tenant_id,
										  const pg_uuid_t *profile_id);
extern bool profile_audit_context_of(int64 tenant_id, const pg_uuid_t *profile_id,
									 const char **client, const pg_uuid_t **trace_id);
extern void profile_audit_append(AuditEvent *ev);
extern void profile_audit_append_batch(AuditEvent *evs, int n);
extern void profile_audit_set_batch(const pg_uuid_t *trace_id, const char *client,
									int64 tenant_id, const pg_uuid_t *ids, int n);
extern bool profile_audit_context_writes_events(int64 tenant_id,
												const pg_uuid_t *profile_id);
extern void profile_audit_append_firsts(AuditEvent *evs, int n);

#endif							/* PROFILE_AUDIT_H */
