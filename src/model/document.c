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
	/* the keys that are not fields: key PE_F__COUNT + R_* */
	enum
	{
		R_ID, R_TENANT, R_STATE, R_MESSAGE, R_WIZARD_URL, R_VERIFIED, R_CREATED_AT,
		R_UPDATED_AT, R_FIRST_LOGIN_AT, R_LAST_LOGIN_AT, R_TRACE_ID, R__COUNT
	};
	static const char *const other_keys[R__COUNT] = {
		"id", "tenant", "state", "message", "wizard_url", "verified", "created_at",
		"updated_at", "first_login_at", "last_login_at", "trace_id"
	};
	static const PeField always[] = {
		PE_F_USERNAME, PE_F_EMAIL, PE_F_PHONE, PE_F_COUNTRY, PE_F_FULL_NAME,
		PE_F_LANGUAGE, PE_F_ENABLED, PE_F_ROLES, PE_F_ATTRIBUTES
	};
	static bool always_shown[PE_F__COUNT];
	static int	order[PE_F__COUNT + R__COUNT];
	static int	nkeys = -1;

	if (nkeys < 0)
	{
		const char *names[PE_F__COUNT + R__COUNT] = {0};

		for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
			if (f != PE_F_PASSWORD)
				names[f] = pe_fields[f].name;
		for (int k = 0; k < R__COUNT; k++)
			names[PE_F__COUNT + k] = other_keys[k];
		for (int i = 0; i < lengthof(always); i++)
			always_shown[always[i]] = true;
		nkeys = profile_jsonb_key_order(names, PE_F__COUNT + R__COUNT, order);
	}

	/* in jsonb's order of keys, computed once */
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < nkeys; i++)
	{
		int			f = order[i];

		if (f < PE_F__COUNT)
		{
			if (!row->isnull[f])
				profile_push_datum(st, pe_fields[f].name, row->values[f],
								   profile_field_type(f));
			else if (always_shown[f])
				profile_push_null(st, pe_fields[f].name);
			continue;
		}
		switch (f - PE_F__COUNT)
		{
			case R_ID:
				profile_push_uuid(st, "id", &row->id);
				break;
			case R_TENANT:
				profile_push_text(st, "tenant", row->tenant_name);
				break;
			case R_STATE:
				profile_push_text(st, "state", row->incomplete ? "incomplete" : "complete");
				break;
			case R_MESSAGE:
				profile_push_text(st, "message", row->message);
				break;
			case R_WIZARD_URL:
				profile_push_text(st, "wizard_url", row->wizard_url);
				break;
			case R_VERIFIED:
				profile_push_bool(st, "verified", row->verified);
				break;
			case R_CREATED_AT:
				profile_push_timestamp(st, "created_at", row->created_at);
				break;
			case R_UPDATED_AT:
				profile_push_timestamp(st, "updated_at", row->updated_at);
				break;
			case R_FIRST_LOGIN_AT:
				if (row->first_login_at == DT_NOBEGIN)
					profile_push_null(st, "first_login_at");
				else
					profile_push_timestamp(st, "first_login_at", row->first_login_at);
				break;
			case R_LAST_LOGIN_AT:
				if (row->last_login_at == DT_NOBEGIN)
					profile_push_null(st, "last_login_at");
				else
					profile_push_timestamp(st, "last_login_at", row->last_login_at);
				break;
			case R_TRACE_ID:
				profile_push_uuid(st, "trace_id", trace_id);
				break;
		}
	}
	return pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

/* The profile document as jsonb (see profile_push_result). */
Jsonb	   *
profile_result(const ProfileRow *row, const pg_uuid_t *trace_id)
{
	JsonbParseState *st = NULL;

	return JsonbValueToJsonb(profile_push_result(&st, row, trace_id));
}
