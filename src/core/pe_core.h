/*-------------------------------------------------------------------------
 *
 * src/core/pe_core.h
 *		The rule core of profile_ext: field table, validators, normalisers
 *		and code tables.
 *
 * Nothing in src/core includes a PostgreSQL header, so the core can be
 * compiled on its own for unit tests (test/unit) and fuzzing (test/fuzz).
 * Strings are UTF-8 and passed with an explicit byte length; they need not
 * be NUL-terminated.  Validators return NULL when the value is acceptable,
 * else a pointer to a static PeRule naming the rule and a message fit for
 * the "errors" list of a VALIDATION_FAILED detail.  Messages never quote
 * the value, so no secret can leak through them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_CORE_H
#define PE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A broken rule: machine-readable name and a human-readable message. */
typedef struct PeRule
{
	const char *rule;
	const char *message;
} PeRule;

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

/*
 * Payload fields of create_profile and update_profile, plus the two
 * request-level keys (access token, tenant) that every API call accepts.
 * The order is the order of the result document's optional part.
 */
typedef enum PeField
{
	PE_F_ACCESS_TOKEN,
	PE_F_TENANT,
	PE_F_USERNAME,
	PE_F_PASSWORD,
	PE_F_EMAIL,
	PE_F_PHONE,
	PE_F_COUNTRY,
	PE_F_FULL_NAME,
	PE_F_LANGUAGE,
	PE_F_ENABLED,
	PE_F_ROLES,
	PE_F_ATTRIBUTES,
	PE_F_VERIFICATION_URL,
	PE_F_ACCESS_LEVEL,
	PE_F_MEMBERSHIP_ID,
	PE_F_PENDING_MEMBERSHIP_ID,
	PE_F_ROLE_IDS,
	PE_F_MAIL_CHIMP_LISTS,
	PE_F_MAIL_CHIMP_INTERESTS,
	PE_F_MAIL_CHIMP_SEGMENTS,
	PE_F_STORED_SELECTORS,
	PE_F_SOCIAL_LOGIN_PROVIDER,
	PE_F_SOCIAL_LOGIN_ID,
	PE_F_CONCIERGE_USER_ID,
	PE_F_STRIPE_CUSTOMER_ID,
	PE_F_GA_CLIENT_ID,
	PE_F_STATUS_COMMENT,
	PE_F_REFERER,
	PE_F_FORCE_CHANGE_PASSWORD,
	PE_F__COUNT
} PeField;

/* How a field's value is typed and checked. */
typedef enum PeFieldType
{
	PE_T_SECRET,				/* access token: a string, never echoed */
	PE_T_NAME,					/* tenant name */
	PE_T_USERNAME,
	PE_T_PASSWORD,
	PE_T_EMAIL,
	PE_T_PHONE,
	PE_T_COUNTRY,
	PE_T_TEXT,					/* string of min..max characters */
	PE_T_LANGUAGE,
	PE_T_ENABLED,				/* bool, "true"/"false"; alias "E"/"D" */
	PE_T_ROLES,					/* string[]; alias: comma-separated string */
	PE_T_ATTRIBUTES,			/* object, or string holding an object */
	PE_T_URL,
	PE_T_ACCESS_LEVEL,			/* 0 or 100 */
	PE_T_INT,					/* 0..2^31-1 */
	PE_T_INT_ARRAY,				/* each 0..2^31-1 */
	PE_T_TEXT_ARRAY,			/* each at most max characters */
	PE_T_BOOL
} PeFieldType;

typedef struct PeFieldDef
{
	const char *name;			/* canonical name, also the result key */
	const char *alias;			/* accepted alias, or NULL */
	PeFieldType type;
	int			min_chars;		/* PE_T_TEXT: bounds in characters */
	int			max_chars;		/* PE_T_TEXT, PE_T_TEXT_ARRAY items */
	bool		control_ok;		/* PE_T_TEXT: control characters allowed */
} PeFieldDef;

extern const PeFieldDef pe_fields[PE_F__COUNT];

/* Is a field of this type a single string checked by profile_check_string? */
extern bool pe_type_is_string(PeFieldType type);

/*
 * Look up a payload key.  Returns the field, or -1 for an unknown key;
 * *is_alias tells whether the key was the field's alias.
 */
extern int	pe_field_lookup(const char *key, size_t len, bool *is_alias);

/* Look up a canonical field name only (complete_fields entries). */
extern int	pe_field_by_name(const char *name, size_t len);

/* Limits of the contract (SPEC sections 3 and 5). */
#define PE_MAX_PAYLOAD_BYTES	(1024 * 1024)
#define PE_MAX_PAYLOAD_DEPTH	32
#define PE_MAX_ATTR_BYTES		(64 * 1024)
#define PE_MAX_ATTR_DEPTH		16
#define PE_MAX_INT				2147483647
#define PE_PHONE_MAX			16	/* "+" and at most 15 digits */
#define PE_MAX_URL_CHARS		2048
#define PE_MAX_ROLES			100 /* roles as given, before de-duplication */
#define PE_MAX_ARRAY_ITEMS		1000	/* integer and string arrays */

/*
 * Is JSON text nested deeper than limit (arrays and objects; the outermost
 * counts as 1)?  Linear, no recursion; the text need not be valid.
 */
extern bool pe_json_depth_exceeds(const char *s, size_t len, int limit);

/* UTF-8 helpers */
extern size_t pe_utf8_chars(const char *s, size_t len);

/* Validators.  NULL means the value is acceptable. */
extern const PeRule *pe_check_type(PeFieldType type, PeJsonKind kind);
extern const PeRule *pe_check_username(const char *s, size_t len);
extern const PeRule *pe_check_password(const char *s, size_t len);
extern const PeRule *pe_check_text(const PeFieldDef *def,
								   const char *s, size_t len);
extern const PeRule *pe_check_language(const char *s, size_t len);
extern const PeRule *pe_check_role(const char *s, size_t len);
extern const PeRule *pe_check_url(const char *s, size_t len);
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
 * Normalisers.  out must have room for len + 1 bytes (email) or
 * PE_PHONE_MAX + 1 bytes (phone) or 3 bytes (country); on success it is
 * NUL-terminated.
 */
extern const PeRule *pe_normalize_email(const char *s, size_t len, char *out);
extern const PeRule *pe_normalize_phone(const char *s, size_t len, char *out,
										const char **country);
extern const PeRule *pe_normalize_country(const char *s, size_t len, char *out);

/*
 * Parse a UUID in its canonical text form (8-4-4-4-12 hex digits, either
 * case) into 16 bytes.
 */
extern bool pe_parse_uuid(const char *s, size_t len, uint8_t *out);

/*
 * Parse an ISO 8601 date-time that carries its UTC offset:
 * YYYY-MM-DDTHH:MM[:SS[.fraction]] then Z, +HH:MM, -HH:MM, +HHMM or +HH.
 * The fraction keeps microseconds.  Out: microseconds since 1970-01-01 UTC.
 */
extern bool pe_parse_iso8601(const char *s, size_t len, int64_t *unix_us);

/* Payload keys of register_user_profile (SPEC section 4). */
typedef enum PeSdkKey
{
	PE_SDK_ACCESS_TOKEN,
	PE_SDK_TENANT,
	PE_SDK_COUNTRY,
	PE_SDK_USER_PROFILE_ID,
	PE_SDK_EVENTS,
	PE_SDK_TP_METADATA,
	PE_SDK_ARID,
	PE_SDK_VERSION,
	PE_SDK__COUNT
} PeSdkKey;

/* Keys of one SDK audit event. */
typedef enum PeSdkEventKey
{
	PE_EV_DATE_TIME,
	PE_EV_USER_PROFILE_ID,
	PE_EV_SESSION_ID,
	PE_EV_TRANSACTION_GROUP_ID,
	PE_EV_SOFTWARE_VERSION,
	PE_EV_LOG_REQUEST_FLOW,
	PE_EV_LOG_EVENT,
	PE_EV_LOG_EVENT_TYPE,
	PE_EV_OS_VERSION,
	PE_EV_DEVICE_MAKE,
	PE_EV_TYPE,
	PE_EV_AUDIT,
	PE_EV__COUNT
} PeSdkEventKey;

extern const char *const pe_sdk_key_names[PE_SDK__COUNT];
extern const char *const pe_sdk_event_key_names[PE_EV__COUNT];
extern int	pe_sdk_key_lookup(const char *key, size_t len, bool *is_alias);
extern int	pe_sdk_event_key_lookup(const char *key, size_t len);

/* Limits of register_user_profile (SPEC section 4). */
#define PE_MAX_SDK_EVENTS		1000
#define PE_MAX_SDK_STRING		256
#define PE_MAX_SDK_VERSION		64

/* Code tables (generated: src/core/pe_tables.c). */
typedef struct PeCallingCode
{
	int			code;
	uint32_t	lengths;		/* bit n set: n-digit national numbers */
	const char *country;		/* the one country of the code, or NULL */
} PeCallingCode;

extern const char pe_iso3166_codes[][3];
extern const int pe_iso3166_count;
extern const char pe_iso639_codes[][3];
extern const int pe_iso639_count;
extern const PeCallingCode pe_calling_codes[];
extern const int pe_calling_code_count;

extern const PeCallingCode *pe_calling_code(int code);
extern bool pe_is_country(const char *code2);
extern bool pe_is_language(const char *code2);

/* Tenant settings keys (SPEC section 1). */
typedef enum PeSetting
{
	PE_S_ENABLED,
	PE_S_REQUIRED_CONTRACT,
	PE_S_COMPLETE_FIELDS,
	PE_S_INCOMPLETE_PROFILES,
	PE_S_WIZARD_URL,
	PE_S_VERIFICATION,
	PE_S_VERIFICATION_TTL,
	PE_S_DEFAULT_ROLES,
	PE_S_ALLOWED_ROLES,
	PE_S_RATE_LIMIT,
	PE_S_VERIFICATION_URL,
	PE_S__COUNT
} PeSetting;

extern const char *const pe_setting_names[PE_S__COUNT];
extern int	pe_setting_lookup(const char *key, size_t len);

/* Error codes (SPEC section 5, then the admin functions' own). */
typedef enum PeErrorCode
{
	PE_E_INVALID_REQUEST,
	PE_E_VALIDATION_FAILED,
	PE_E_UNAUTHENTICATED,
	PE_E_TENANT_NOT_FOUND,
	PE_E_TENANT_FORBIDDEN,
	PE_E_CONTRACT_INACTIVE,
	PE_E_PROFILE_EXISTS,
	PE_E_PROFILE_NOT_FOUND,
	PE_E_RATE_LIMITED,
	PE_E_VERIFICATION_INVALID,
	PE_E_TENANT_EXISTS,
	PE_E_CLIENT_EXISTS,
	PE_E_CLIENT_NOT_FOUND,
	PE_E_TOKEN_NOT_FOUND,
	PE_E_CONTRACT_NOT_FOUND,
	PE_E_ROLE_NOT_FOUND,
	PE_E_MAIL_NOT_FOUND,
	PE_E__COUNT
} PeErrorCode;

typedef struct PeErrorDef
{
	const char *code;
	const char	sqlstate[6];
	int			http;
} PeErrorDef;

extern const PeErrorDef pe_error_defs[PE_E__COUNT];

#endif							/* PE_CORE_H */
