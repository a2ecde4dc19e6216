/*-------------------------------------------------------------------------
 *
 * src/catalog/settings.h
 *		Tenant settings: validation, defaults, the stored form (settings.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_SETTINGS_H
#define PROFILE_SETTINGS_H

#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "base/errors.h"
#include "core/pe_fields.h"

/* A tenant and its settings, as a call uses them. */
typedef struct TenantInfo
{
	int64		id;
	char	   *name;
	bool		enabled;
	char	   *required_contract;	/* NULL: none */
	int			n_complete;
	int16		complete_fields[PE_F__COUNT];
	bool		incomplete_profiles;
	char	   *wizard_url;		/* NULL: none */
	bool		verification;
	char	   *verification_ttl;
	char	   *idempotency_ttl;	/* how long idempotent results are kept */
	char	   *verification_url;	/* NULL: none */
	int			n_default_roles;
	char	  **default_roles;
	int			n_allowed_roles;	/* -1: any role allowed */
	char	  **allowed_roles;
	int32		per_second;
	int32		per_minute;
	bool		confusable;		/* username_uniqueness = "confusable" */
	int32		phone_types;	/* bit per PePhoneType allowed; -1: any */
} TenantInfo;

extern bool profile_parse_settings(Jsonb *settings, TenantInfo *out,
								   FieldErrors *errs, const char *prefix);
extern Jsonb *profile_settings_jsonb(const TenantInfo *t);
extern char *profile_wizard_url(const char *template, const pg_uuid_t *id);

#endif							/* PROFILE_SETTINGS_H */
