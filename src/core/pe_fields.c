/*-------------------------------------------------------------------------
 *
 * src/core/pe_fields.c
 *		The payload field table and the tenant settings keys.
 *
 * pe_fields is indexed by PeField.  Key lookup goes through pe_keys, the
 * names and aliases sorted by strcmp order for a binary search; the unit
 * tests check that the two tables agree and that pe_keys is sorted.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "pe_fields.h"

const PeFieldDef pe_fields[PE_F__COUNT] = {
	[PE_F_ACCESS_TOKEN] = {"accessTokenId", "access_token", PE_T_SECRET, 1, 512, false},
	[PE_F_TENANT] = {"tenantName", "tenant", PE_T_NAME, 1, 64, false},
	[PE_F_IDEMPOTENCY_KEY] = {"idempotencyKey", NULL, PE_T_SECRET, 1, 255, false},
	[PE_F_USERNAME] = {"username", "login", PE_T_USERNAME, 5, 128, false},
	[PE_F_PASSWORD] = {"password", NULL, PE_T_PASSWORD, 8, 128, true},
	[PE_F_EMAIL] = {"email", NULL, PE_T_EMAIL, 3, 254, false},
	[PE_F_PHONE] = {"mobile_phone_number", "phone", PE_T_PHONE, 1, 64, false},
	[PE_F_COUNTRY] = {"country_code", "countryCode", PE_T_COUNTRY, 2, 2, false},
	[PE_F_FULL_NAME] = {"full_name", NULL, PE_T_TEXT, 1, 256, false},
	[PE_F_LANGUAGE] = {"language", NULL, PE_T_LANGUAGE, 2, 2, false},
	[PE_F_ENABLED] = {"enabled", "status", PE_T_ENABLED, 0, 0, false},
	[PE_F_ROLES] = {"roles", "role", PE_T_ROLES, 1, 64, false},
	[PE_F_ATTRIBUTES] = {"attributes", NULL, PE_T_ATTRIBUTES, 0, 0, false},
	[PE_F_VERIFICATION_URL] = {"verificationUrl", "verification_url", PE_T_URL, 1, 2048, false},
	[PE_F_ACCESS_LEVEL] = {"access_level", NULL, PE_T_ACCESS_LEVEL, 0, 0, false},
	[PE_F_MEMBERSHIP_ID] = {"membership_id", NULL, PE_T_INT, 0, 0, false},
	[PE_F_PENDING_MEMBERSHIP_ID] = {"pending_membership_id", NULL, PE_T_INT, 0, 0, false},
	[PE_F_ROLE_IDS] = {"role_ids", NULL, PE_T_INT_ARRAY, 0, 0, false},
	[PE_F_MAIL_CHIMP_LISTS] = {"mail_chimp_lists", NULL, PE_T_INT_ARRAY, 0, 0, false},
	[PE_F_MAIL_CHIMP_INTERESTS] = {"mail_chimp_interests", NULL, PE_T_INT_ARRAY, 0, 0, false},
	[PE_F_MAIL_CHIMP_SEGMENTS] = {"mail_chimp_segments", NULL, PE_T_INT_ARRAY, 0, 0, false},
	[PE_F_STORED_SELECTORS] = {"stored_selectors", NULL, PE_T_TEXT_ARRAY, 0, 1024, true},
	[PE_F_SOCIAL_LOGIN_PROVIDER] = {"social_login_provider", NULL, PE_T_TEXT, 0, 128, true},
	[PE_F_SOCIAL_LOGIN_ID] = {"social_login_id", NULL, PE_T_TEXT, 0, 128, true},
	[PE_F_CONCIERGE_USER_ID] = {"concierge_user_id", NULL, PE_T_TEXT, 0, 128, true},
	[PE_F_STRIPE_CUSTOMER_ID] = {"stripe_customer_id", NULL, PE_T_TEXT, 0, 128, true},
	[PE_F_GA_CLIENT_ID] = {"ga_client_id", NULL, PE_T_TEXT, 0, 2048, true},
	[PE_F_STATUS_COMMENT] = {"status_comment", NULL, PE_T_TEXT, 0, 2048, true},
	[PE_F_REFERER] = {"referer", NULL, PE_T_TEXT, 0, 2048, true},
	[PE_F_FORCE_CHANGE_PASSWORD] = {"force_change_password", NULL, PE_T_BOOL, 0, 0, false},
};

bool
pe_type_is_string(PeFieldType type)
{
	switch (type)
	{
		case PE_T_USERNAME:
		case PE_T_PASSWORD:
		case PE_T_TEXT:
		case PE_T_LANGUAGE:
		case PE_T_URL:
		case PE_T_EMAIL:
		case PE_T_PHONE:
		case PE_T_COUNTRY:
			return true;
		default:
			return false;
	}
}

typedef struct PeKey
{
	const char *key;
	short		field;
	bool		alias;
} PeKey;

/* Every name and alias of pe_fields, in strcmp order. */
static const PeKey pe_keys[] = {
	{"accessTokenId", PE_F_ACCESS_TOKEN, false},
	{"access_level", PE_F_ACCESS_LEVEL, false},
	{"access_token", PE_F_ACCESS_TOKEN, true},
	{"attributes", PE_F_ATTRIBUTES, false},
	{"concierge_user_id", PE_F_CONCIERGE_USER_ID, false},
	{"countryCode", PE_F_COUNTRY, true},
	{"country_code", PE_F_COUNTRY, false},
	{"email", PE_F_EMAIL, false},
	{"enabled", PE_F_ENABLED, false},
	{"force_change_password", PE_F_FORCE_CHANGE_PASSWORD, false},
	{"full_name", PE_F_FULL_NAME, false},
	{"ga_client_id", PE_F_GA_CLIENT_ID, false},
	{"idempotencyKey", PE_F_IDEMPOTENCY_KEY, false},
	{"language", PE_F_LANGUAGE, false},
	{"login", PE_F_USERNAME, true},
	{"mail_chimp_interests", PE_F_MAIL_CHIMP_INTERESTS, false},
	{"mail_chimp_lists", PE_F_MAIL_CHIMP_LISTS, false},
	{"mail_chimp_segments", PE_F_MAIL_CHIMP_SEGMENTS, false},
	{"membership_id", PE_F_MEMBERSHIP_ID, false},
	{"mobile_phone_number", PE_F_PHONE, false},
	{"password", PE_F_PASSWORD, false},
	{"pending_membership_id", PE_F_PENDING_MEMBERSHIP_ID, false},
	{"phone", PE_F_PHONE, true},
	{"referer", PE_F_REFERER, false},
	{"role", PE_F_ROLES, true},
	{"role_ids", PE_F_ROLE_IDS, false},
	{"roles", PE_F_ROLES, false},
	{"social_login_id", PE_F_SOCIAL_LOGIN_ID, false},
	{"social_login_provider", PE_F_SOCIAL_LOGIN_PROVIDER, false},
	{"status", PE_F_ENABLED, true},
	{"status_comment", PE_F_STATUS_COMMENT, false},
	{"stored_selectors", PE_F_STORED_SELECTORS, false},
	{"stripe_customer_id", PE_F_STRIPE_CUSTOMER_ID, false},
	{"tenant", PE_F_TENANT, true},
	{"tenantName", PE_F_TENANT, false},
	{"username", PE_F_USERNAME, false},
	{"verificationUrl", PE_F_VERIFICATION_URL, false},
	{"verification_url", PE_F_VERIFICATION_URL, true},
};

#define PE_NKEYS ((int) (sizeof(pe_keys) / sizeof(pe_keys[0])))

/* Compare a counted key with a NUL-terminated one, in strcmp order. */
static int
keycmp(const char *key, size_t len, const char *name)
{
	size_t		nlen = strlen(name);
	int			c = memcmp(key, name, len < nlen ? len : nlen);

	if (c != 0)
		return c;
	return (len > nlen) - (len < nlen);
}

int
pe_field_lookup(const char *key, size_t len, bool *is_alias)
{
	int			lo = 0,
				hi = PE_NKEYS - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = keycmp(key, len, pe_keys[mid].key);

		if (c == 0)
		{
			*is_alias = pe_keys[mid].alias;
			return pe_keys[mid].field;
		}
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

int
pe_field_by_name(const char *name, size_t len)
{
	bool		alias;
	int			f = pe_field_lookup(name, len, &alias);

	/* request-level keys are not profile fields */
	if (f < 0 || alias || f == PE_F_ACCESS_TOKEN || f == PE_F_TENANT)
		return -1;
	return f;
}

/* Exposed for the unit tests, which check the table's order. */
int			pe_key_count(void);
const char *pe_key_at(int i, int *field, bool *alias);

int
pe_key_count(void)
{
	return PE_NKEYS;
}

const char *
pe_key_at(int i, int *field, bool *alias)
{
	*field = pe_keys[i].field;
	*alias = pe_keys[i].alias;
	return pe_keys[i].key;
}

const char *const pe_setting_names[PE_S__COUNT] = {
	[PE_S_ENABLED] = "enabled",
	[PE_S_REQUIRED_CONTRACT] = "required_contract",
	[PE_S_COMPLETE_FIELDS] = "complete_fields",
	[PE_S_INCOMPLETE_PROFILES] = "incomplete_profiles",
	[PE_S_WIZARD_URL] = "wizard_url",
	[PE_S_VERIFICATION] = "verification",
	[PE_S_VERIFICATION_TTL] = "verification_ttl",
	[PE_S_DEFAULT_ROLES] = "default_roles",
	[PE_S_ALLOWED_ROLES] = "allowed_roles",
	[PE_S_RATE_LIMIT] = "rate_limit",
	[PE_S_VERIFICATION_URL] = "verification_url",
	[PE_S_USERNAME_UNIQUENESS] = "username_uniqueness",
	[PE_S_PHONE_TYPES] = "phone_types",
	[PE_S_IDEMPOTENCY_TTL] = "idempotency_ttl",
};

const char *const pe_phone_type_names[PE_PHONE__COUNT] = {
	[PE_PHONE_FIXED_LINE] = "fixed_line",
	[PE_PHONE_MOBILE] = "mobile",
	[PE_PHONE_FIXED_LINE_OR_MOBILE] = "fixed_line_or_mobile",
	[PE_PHONE_TOLL_FREE] = "toll_free",
	[PE_PHONE_PREMIUM_RATE] = "premium_rate",
	[PE_PHONE_SHARED_COST] = "shared_cost",
	[PE_PHONE_VOIP] = "voip",
	[PE_PHONE_PERSONAL_NUMBER] = "personal_number",
	[PE_PHONE_PAGER] = "pager",
	[PE_PHONE_UAN] = "uan",
	[PE_PHONE_VOICEMAIL] = "voicemail",
};

int
pe_phone_type_lookup(const char *name, size_t len)
{
	for (int i = 0; i < PE_PHONE__COUNT; i++)
		if (keycmp(name, len, pe_phone_type_names[i]) == 0)
			return i;
	return -1;
}

int
pe_setting_lookup(const char *key, size_t len)
{
	for (int i = 0; i < PE_S__COUNT; i++)
		if (keycmp(key, len, pe_setting_names[i]) == 0)
			return i;
	return -1;
}

const char *const pe_sdk_key_names[PE_SDK__COUNT] = {
	[PE_SDK_ACCESS_TOKEN] = "accessTokenId",
	[PE_SDK_TENANT] = "tenantName",
	[PE_SDK_COUNTRY] = "countryCode",
	[PE_SDK_USER_PROFILE_ID] = "userProfileId",
	[PE_SDK_EVENTS] = "sdkAuditEvents",
	[PE_SDK_TP_METADATA] = "tpAuditMetadata",
	[PE_SDK_ARID] = "arid",
	[PE_SDK_VERSION] = "sdkVersion",
};

static const char *const pe_sdk_key_aliases[PE_SDK__COUNT] = {
	[PE_SDK_ACCESS_TOKEN] = "access_token",
	[PE_SDK_TENANT] = "tenant",
	[PE_SDK_COUNTRY] = "country_code",
};

int
pe_sdk_key_lookup(const char *key, size_t len, bool *is_alias)
{
	for (int i = 0; i < PE_SDK__COUNT; i++)
	{
		if (keycmp(key, len, pe_sdk_key_names[i]) == 0)
		{
			*is_alias = false;
			return i;
		}
		if (pe_sdk_key_aliases[i] && keycmp(key, len, pe_sdk_key_aliases[i]) == 0)
		{
			*is_alias = true;
			return i;
		}
	}
	return -1;
}

const char *const pe_sdk_event_key_names[PE_EV__COUNT] = {
	[PE_EV_DATE_TIME] = "dateTime",
	[PE_EV_USER_PROFILE_ID] = "userProfileId",
	[PE_EV_SESSION_ID] = "sessionId",
	[PE_EV_TRANSACTION_GROUP_ID] = "transactionGroupId",
	[PE_EV_SOFTWARE_VERSION] = "softwareVersion",
	[PE_EV_LOG_REQUEST_FLOW] = "logRequestFlow",
	[PE_EV_LOG_EVENT] = "logEvent",
	[PE_EV_LOG_EVENT_TYPE] = "logEventType",
	[PE_EV_OS_VERSION] = "osVersion",
	[PE_EV_DEVICE_MAKE] = "deviceMake",
	[PE_EV_TYPE] = "type",
	[PE_EV_AUDIT] = "audit",
};

int
pe_sdk_event_key_lookup(const char *key, size_t len)
{
	for (int i = 0; i < PE_EV__COUNT; i++)
		if (keycmp(key, len, pe_sdk_event_key_names[i]) == 0)
			return i;
	return -1;
}
