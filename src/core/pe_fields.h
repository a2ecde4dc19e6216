/*-------------------------------------------------------------------------
 *
 * src/core/pe_fields.h
 *		The names the contract knows: profile fields and their aliases, the
 *		SDK registration's keys, and the tenant settings keys (pe_fields.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_FIELDS_H
#define PE_FIELDS_H

#include "pe_rule.h"

/*
 * Payload fields of create_profile and update_profile, plus the
 * request-level keys (access token, tenant, idempotency key) that API
 * calls accept.  The order is the order of the result document's optional
 * part.
 */
typedef enum PeField
{
	PE_F_ACCESS_TOKEN,
	PE_F_TENANT,
	PE_F_IDEMPOTENCY_KEY,
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

/* Payload keys of register_user_profile (README, Reference). */
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

/* Tenant settings keys (README, "Tenant settings"). */
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
	PE_S_USERNAME_UNIQUENESS,
	PE_S_PHONE_TYPES,
	PE_S_IDEMPOTENCY_TTL,
	PE_S__COUNT
} PeSetting;

extern const char *const pe_setting_names[PE_S__COUNT];

/*
 * Phone number types, as libphonenumber determines them; the names are
 * the tenant setting phone_types's.
 */
typedef enum PePhoneType
{
	PE_PHONE_FIXED_LINE,
	PE_PHONE_MOBILE,
	PE_PHONE_FIXED_LINE_OR_MOBILE,
	PE_PHONE_TOLL_FREE,
	PE_PHONE_PREMIUM_RATE,
	PE_PHONE_SHARED_COST,
	PE_PHONE_VOIP,
	PE_PHONE_PERSONAL_NUMBER,
	PE_PHONE_PAGER,
	PE_PHONE_UAN,
	PE_PHONE_VOICEMAIL,
	PE_PHONE__COUNT,
	PE_PHONE_UNKNOWN = -1
} PePhoneType;

extern const char *const pe_phone_type_names[PE_PHONE__COUNT];
extern int	pe_phone_type_lookup(const char *name, size_t len);
extern int	pe_setting_lookup(const char *key, size_t len);

#endif							/* PE_FIELDS_H */
