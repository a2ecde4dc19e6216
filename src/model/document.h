/*-------------------------------------------------------------------------
 *
 * src/model/document.h
 *		The profile document every profile function returns (document.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_DOCUMENT_H
#define PROFILE_DOCUMENT_H

#include "model/fields.h"

extern Jsonb *profile_result(const ProfileRow *row, const pg_uuid_t *trace_id);
extern JsonbValue *profile_push_result(JsonbParseState **st, const ProfileRow *row,
									   const pg_uuid_t *trace_id);

#endif							/* PROFILE_DOCUMENT_H */
