/*-------------------------------------------------------------------------
 *
 * src/audit/chain.h
 *		Tamper evidence: the canonical hash of an event (chain.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_CHAIN_H
#define PROFILE_CHAIN_H

#include "audit/audit.h"

extern void profile_event_hash(const uint8 *prev, const AuditEvent *ev,
							   uint8 *out);

#endif							/* PROFILE_CHAIN_H */
