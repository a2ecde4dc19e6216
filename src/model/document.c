/*-------------------------------------------------------------------------
 *
 * src/model/document.c
 *		The profile document every profile function returns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "base/json.h"
#include "model/document.h"

/*
 * The profile document (README, Reference: create_profile's result):
 * the fixed keys always, null where unset; every other field only when it
 * has a value; never the password.  Pushed onto *st as an object (at the
 * top, or as the value of a key pushed before).
 */
JsonbValue *
profile_push_result(JsonbParseState **st, const ProfileRow *row, const pg_uuid_t *trace_id)
{
	static const PeField always[] = {
		PE_F_USERNAME, PE_F_EMAIL, PE_F_PHONE, PE_F_COUNTRY, PE_F_FULL_NAME,
		PE_F_LANGUAGE, PE_F_ENABLED, PE_F_ROLES, PE_F_ATTRIBUTES
	};
	bool		done[PE_F__COUNT] = {0};

	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	profile_push_uuid(st, "id", &row->id);
	profile_push_text(st, "tenant", row->tenant_name);
	profile_push_text(st, "state", row->incomplete ? "incomplete" : "complete");
	profile_push_text(st, "message", row->message);
	profile_push_text(st, "wizard_url", row->wizard_url);
	for (int i = 0; i < lengthof(always); i++)
	{
		PeField		f = always[i];

		if (row->isnull[f])
			profile_push_null(st, pe_fields[f].name);
		else
			profile_push_datum(st, pe_fields[f].name, row->values[f],
							   profile_field_type(f));
		done[f] = true;
	}
	profile_push_bool(st, "verified", row->verified);
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		if (done[f] || row->isnull[f] || f == PE_F_PASSWORD)
			continue;
		profile_push_datum(st, pe_fields[f].name, row->values[f],
						   profile_field_type(f));
	}
	profile_push_timestamp(st, "created_at", row->created_at);
	profile_push_timestamp(st, "updated_at", row->updated_at);
	if (row->first_login_at == DT_NOBEGIN)
		profile_push_null(st, "first_login_at");
	else
		profile_push_timestamp(st, "first_login_at", row->first_login_at);
	if (row->last_login_at == DT_NOBEGIN)
		profile_push_null(st, "last_login_at");
	else
		profile_push_timestamp(st, "last_login_at", row->last_login_at);
	profile_push_uuid(st, "trace_id", trace_id);
	return pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

/* The profile document as jsonb (see profile_push_result). */
Jsonb	   *
profile_result(const ProfileRow *row, const pg_uuid_t *trace_id)
{
	JsonbParseState *st = NULL;

	return JsonbValueToJsonb(profile_push_result(&st, row, trace_id));
}
