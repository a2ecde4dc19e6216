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
#include "storage/itemptr.h"
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

/* What a marked row's triggers leave to the API call (profile_audit_mark) */
#define AUDIT_MARK_OWN_EVENTS	1	/* it records the row's events itself */
#define AUDIT_MARK_ERASING		2	/* it erases the profile: no event */
#define AUDIT_MARK_DELETING		4	/* its next statement deletes the row */

extern void profile_audit_init(void);
extern char *profile_audit_mark(const pg_uuid_t *trace_id, const char *client, int flags);

/* The write a mark is for (audit.c, "Marks") */
typedef enum MarkedWrite
{
	MARKED_INSERT,
	MARKED_UPDATE,
	MARKED_DELETE
} MarkedWrite;

extern bool profile_audit_take_mark(int64 tenant_id, const pg_uuid_t *profile_id,
									const char *mark, MarkedWrite write, ItemPointer tid);
extern void profile_audit_mark_deleting(int64 tenant_id, const pg_uuid_t *profile_id,
										ItemPointer tid);
extern void profile_audit_drop_mark(int64 tenant_id, const pg_uuid_t *profile_id);
extern bool profile_audit_marked(int64 tenant_id, const pg_uuid_t *profile_id,
								 MarkedWrite write, ItemPointer tid, const char **client,
								 const pg_uuid_t **trace_id, int *flags);
extern void profile_audit_set_context(int64 tenant_id, const pg_uuid_t *profile_id);
extern void profile_audit_clear_context(void);
extern void profile_audit_append(AuditEvent *ev);
extern void profile_audit_append_first(AuditEvent *ev);
extern void profile_audit_append_batch(AuditEvent *evs, int n);
extern void profile_audit_append_firsts(AuditEvent *evs, int n);

#endif							/* PROFILE_AUDIT_H */
