/*-------------------------------------------------------------------------
 *
 * src/audit/erasure.h
 *		Erasing a profile's personal values from its audit events
 *		(erasure.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_ERASURE_H
#define PROFILE_ERASURE_H

#include "audit/audit.h"

typedef struct ErasureResult
{
	int64		events_erased;	/* the profile's earlier events */
	bool		verified;		/* its chain held before the erasure */
} ErasureResult;

extern void profile_audit_erase(AuditEvent *ev, ErasureResult *res);

#endif							/* PROFILE_ERASURE_H */
