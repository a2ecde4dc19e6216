/*-------------------------------------------------------------------------
 *
 * src/audit/trigger.h
 *		The triggers of the audit trail, and the document of a profile row
 *		its events hold (trigger.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_TRIGGER_H
#define PROFILE_TRIGGER_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/jsonb.h"

extern Jsonb *profile_row_document(HeapTuple tup, TupleDesc desc);

#endif							/* PROFILE_TRIGGER_H */
