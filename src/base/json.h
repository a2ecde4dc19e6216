/*-------------------------------------------------------------------------
 *
 * src/base/json.h
 *		Building jsonb values and looking at them (json.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_JSON_H
#define PROFILE_JSON_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

extern void profile_push_key(JsonbParseState **st, const char *key);
extern void profile_push_text(JsonbParseState **st, const char *key,
							  const char *val);
extern void profile_push_bool(JsonbParseState **st, const char *key, bool val);
extern void profile_push_null(JsonbParseState **st, const char *key);
extern void profile_push_int(JsonbParseState **st, const char *key, int64 val);
extern void profile_push_timestamp(JsonbParseState **st, const char *key,
								   TimestampTz ts);
extern void profile_push_uuid(JsonbParseState **st, const char *key,
							  const pg_uuid_t *uuid);
extern void profile_push_jsonb(JsonbParseState **st, const char *key,
							   Jsonb *val);
extern void profile_push_datum(JsonbParseState **st, const char *key,
							   Datum value, Oid typid);

extern int	profile_jsonb_depth(JsonbContainer *c, int limit);
extern bool profile_jsonb_text_exceeds(JsonbContainer *c, size_t limit);
extern bool profile_jsonb_measure(JsonbContainer *c, size_t limit, int *max_depth);
extern int	profile_jsonb_key_order(const char *const *names, int n, int *order);
extern char *profile_jsonb_text(Jsonb *jb, int *len);
extern char *profile_uuid_text(const pg_uuid_t *uuid);
extern Jsonb *profile_empty_object(void);

#endif							/* PROFILE_JSON_H */
