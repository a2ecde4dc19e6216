/*-------------------------------------------------------------------------
 *
 * src/core/pe_validate.h
 *		Validators, normalisers and parsers of single values (pe_validate.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_VALIDATE_H
#define PE_VALIDATE_H

#include "pe_fields.h"
#include "pe_rule.h"

/* Kinds of JSON value, as the glue reports them to the core. */
typedef enum PeJsonKind
{
	PE_JSON_NULL,
	PE_JSON_STRING,
	PE_JSON_NUMBER,
	PE_JSON_BOOL,
	PE_JSON_ARRAY,
	PE_JSON_OBJECT
} PeJsonKind;

/* UTF-8 helpers */
extern size_t pe_utf8_chars(const char *s, size_t len);

/* The rules that enforce the limits of pe_rule.h. */
extern const PeRule pe_rule_roles_count;
extern const PeRule pe_rule_items_count;
extern const PeRule pe_rule_int_items;
extern const PeRule pe_rule_selector_length;
extern const PeRule pe_rule_attr_depth;
extern const PeRule pe_rule_attr_size;
extern const PeRule pe_rule_sdk_events;
extern const PeRule pe_rule_sdk_string;
extern const PeRule pe_rule_sdk_version;

/* A string and where it stood, for pe_dedupe. */
typedef struct PeSpan
{
	const char *s;
	int			len;
	int			index;
} PeSpan;

/*
 * Drop the later duplicates among the n strings (s[i], len[i]), keeping
 * the first of each in its place; returns the new count.  scratch: room for
 * n PeSpans.  Sorting makes it O(n log n) whatever the input.
 */
extern int	pe_dedupe(const char **s, int *len, int n, PeSpan *scratch);

/* Validators.  NULL means the value is acceptable. */
extern const PeRule *pe_check_type(PeFieldType type, PeJsonKind kind);
extern const PeRule *pe_check_password(const char *s, size_t len);
extern const PeRule *pe_check_text(const PeFieldDef *def,
								   const char *s, size_t len);
extern const PeRule *pe_check_language(const char *s, size_t len);
extern const PeRule *pe_check_role(const char *s, size_t len);
extern const PeRule *pe_check_name(const char *s, size_t len);
extern const PeRule *pe_check_access_level(int64_t v);
extern const PeRule *pe_check_int(int64_t v);

/*
 * Parse the text form of a JSON number as an integer.  Accepts an optional
 * minus sign, digits and a fraction of zeros only; false for anything else
 * or a value outside int64.
 */
extern bool pe_parse_integer(const char *s, size_t len, int64_t *out);

/*
 * Parse "true"/"false" (case-insensitive) as a boolean, and the status
 * alias "E"/"D".
 */
extern bool pe_parse_bool_text(const char *s, size_t len, bool *out);
extern bool pe_parse_status(const char *s, size_t len, bool *out);

/*
 * Normalisers.  out must have room for len + 1 bytes (email) or 3 bytes
 * (country); on success it is NUL-terminated.  (Phones: pe_phone.h.)
 */
extern const PeRule *pe_normalize_email(const char *s, size_t len, char *out);
extern const PeRule *pe_normalize_country(const char *s, size_t len, char *out);

/*
 * Parse a UUID in its canonical text form (8-4-4-4-12 hex digits, either
 * case) into 16 bytes.
 */
extern bool pe_parse_uuid(const char *s, size_t len, uint8_t *out);

/*
 * Parse an RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.fraction] then Z,
 * +HH:MM or -HH:MM ("T" and "Z" in either case); seconds 60 only for the
 * last second of a UTC day, which counts as the first of the next (as in
 * PostgreSQL).  The fraction keeps microseconds.  Out: microseconds since
 * 1970-01-01 UTC.
 */
extern bool pe_parse_rfc3339(const char *s, size_t len, int64_t *unix_us);

#endif							/* PE_VALIDATE_H */
