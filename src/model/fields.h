/*-------------------------------------------------------------------------
 *
 * src/model/fields.h
 *		The profile fields of a payload, checked, and the rules of a whole
 *		profile (fields.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_FIELDS_H
#define PROFILE_FIELDS_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "base/errors.h"
#include "catalog/settings.h"
#include "core/pe_fields.h"
#include "core/pe_phone.h"

/* The profile fields of a payload, as read (profile_read_payload). */
typedef struct ProfileInput
{
	bool		present[PE_F__COUNT];	/* given and not JSON null */
	bool		cleared[PE_F__COUNT];	/* given as JSON null (update: clears) */
	const char *key[PE_F__COUNT];	/* the key as the request spelled it */
	JsonbValue	raw[PE_F__COUNT];
	bool		alias_conflict;
	FieldErrors errs;			/* unknown keys, alias conflicts */
} ProfileInput;

/* The identity keys of a profile, each in a column of its own. */
typedef enum ProfileKey
{
	PROFILE_KEY_USERNAME,
	PROFILE_KEY_SKELETON,		/* only in "confusable" tenants */
	PROFILE_KEY_SHAPE,			/* only in "confusable" tenants */
	PROFILE_KEY_EMAIL,
	PROFILE_KEY_PHONE,
	PROFILE_N_KEYS
} ProfileKey;

extern const char *const profile_key_columns[PROFILE_N_KEYS];
extern const char *const profile_key_fields[PROFILE_N_KEYS];

/* A profile as its columns: what is stored, and the result's input. */
typedef struct ProfileRow
{
	int64		tenant_id;
	const char *tenant_name;
	pg_uuid_t	id;
	bool		incomplete;
	const char *message;
	const char *wizard_url;		/* NULL unless incomplete */
	Datum		values[PE_F__COUNT];	/* indexed by PeField, column types */
	bool		isnull[PE_F__COUNT];
	PePhone		phone;			/* the phone number as parsed (given) */
	Datum		keys[PROFILE_N_KEYS];	/* profile_identity_keys */
	bool		keynull[PROFILE_N_KEYS];
	Datum		reclaim[PROFILE_N_KEYS];	/* profile_rekey: keys a listed */
	bool		reclaim_null[PROFILE_N_KEYS];	/* row may take if free */
	bool		verified;
	TimestampTz created_at;
	TimestampTz updated_at;
	TimestampTz first_login_at; /* DT_NOBEGIN: null */
	TimestampTz last_login_at;	/* DT_NOBEGIN: null */
} ProfileRow;

extern Oid	profile_field_type(int f);
extern const char *profile_field_column(int f);
extern void profile_read_payload(Jsonb *payload, ProfileInput *in);
extern void profile_check_fields(ProfileInput *in, const TenantInfo *tenant,
								 ProfileRow *row, FieldErrors *errs);
extern const PeRule *profile_check_string(int f, const char *s, size_t len,
										  Datum *out, PePhone *phone);
extern const PeRule *profile_check_phone_type(const TenantInfo *tenant,
											  const PePhone *phone);
extern const PeRule *profile_check_attributes(Jsonb *attrs);
extern bool profile_role_allowed(const TenantInfo *t, const char *role, size_t len);
extern Datum profile_default_roles(const TenantInfo *tenant);
extern void profile_row_from_tuple(HeapTuple tup, TupleDesc desc, ProfileRow *row);

extern bool profile_default_value(int f, const TenantInfo *tenant, Datum *value);
extern bool profile_cleared_value(int f, Datum *value);
extern void profile_apply_defaults(ProfileRow *row, const bool *given,
								   const TenantInfo *tenant);
extern void profile_country_from_phone(ProfileRow *row, bool phone_given);
extern void profile_check_contact(const bool *has, FieldErrors *errs);
extern bool profile_missing_complete(const TenantInfo *tenant, const bool *has,
									 FieldErrors *errs);
extern void profile_start_unverified(ProfileRow *row, const TenantInfo *tenant);
extern void profile_identity_keys(ProfileRow *row, const TenantInfo *tenant);
extern void profile_rekey(ProfileRow *row, const TenantInfo *tenant,
						  const bool *changed);
extern void profile_hash_row_password(ProfileRow *row);

#endif							/* PROFILE_FIELDS_H */
