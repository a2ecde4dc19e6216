/*-------------------------------------------------------------------------
 *
 * src/result.c
 *		Building jsonb results: small push helpers and the profile
 *		document of SPEC section 3.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "profile_ext.h"

void
profile_push_key(JsonbParseState **st, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(st, WJB_KEY, &k);
}

static void
push_string_value(JsonbParseState **st, JsonbIteratorToken tok,
				  const char *s, int len)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = len;
	pushJsonbValue(st, tok, &v);
}

void
profile_push_text(JsonbParseState **st, const char *key, const char *val)
{
	if (val == NULL)
	{
		profile_push_null(st, key);
		return;
	}
	profile_push_key(st, key);
	push_string_value(st, WJB_VALUE, val, strlen(val));
}

void
profile_push_bool(JsonbParseState **st, const char *key, bool val)
{
	JsonbValue	v;

	profile_push_key(st, key);
	v.type = jbvBool;
	v.val.boolean = val;
	pushJsonbValue(st, WJB_VALUE, &v);
}

void
profile_push_null(JsonbParseState **st, const char *key)
{
	JsonbValue	v;

	profile_push_key(st, key);
	v.type = jbvNull;
	pushJsonbValue(st, WJB_VALUE, &v);
}

static void
push_int_value(JsonbParseState **st, JsonbIteratorToken tok, int64 val)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric,
														Int64GetDatum(val)));
	pushJsonbValue(st, tok, &v);
}

void
profile_push_int(JsonbParseState **st, const char *key, int64 val)
{
	profile_push_key(st, key);
	push_int_value(st, WJB_VALUE, val);
}

void
profile_push_timestamp(JsonbParseState **st, const char *key, TimestampTz ts)
{
	/* palloc'd: pushJsonbValue keeps the pointer, not a copy */
	char	   *buf = JsonEncodeDateTime(NULL, TimestampTzGetDatum(ts),
										 TIMESTAMPTZOID, NULL);

	profile_push_key(st, key);
	push_string_value(st, WJB_VALUE, buf, strlen(buf));
}

void
profile_push_uuid(JsonbParseState **st, const char *key, const pg_uuid_t *uuid)
{
	profile_push_text(st, key, profile_uuid_text(uuid));
}

void
profile_push_jsonb(JsonbParseState **st, const char *key, Jsonb *val)
{
	JsonbValue	v;

	profile_push_key(st, key);
	v.type = jbvBinary;
	v.val.binary.data = &val->root;
	v.val.binary.len = VARSIZE(val) - VARHDRSZ;
	pushJsonbValue(st, WJB_VALUE, &v);
}

/* Push a value of one of the profile columns' types. */
void
profile_push_datum(JsonbParseState **st, const char *key, Datum value,
				   Oid typid)
{
	switch (typid)
	{
		case TEXTOID:
			{
				text	   *t = DatumGetTextPP(value);

				profile_push_key(st, key);
				push_string_value(st, WJB_VALUE, VARDATA_ANY(t),
								  VARSIZE_ANY_EXHDR(t));
				break;
			}
		case BOOLOID:
			profile_push_bool(st, key, DatumGetBool(value));
			break;
		case INT4OID:
			profile_push_int(st, key, DatumGetInt32(value));
			break;
		case JSONBOID:
			profile_push_jsonb(st, key, DatumGetJsonbP(value));
			break;
		case TEXTARRAYOID:
		case INT4ARRAYOID:
			{
				ArrayType  *arr = DatumGetArrayTypeP(value);
				Oid			elemtype = ARR_ELEMTYPE(arr);
				int16		typlen;
				bool		typbyval;
				char		typalign;
				Datum	   *elems;
				bool	   *nulls;
				int			n;

				get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
				deconstruct_array(arr, elemtype, typlen, typbyval, typalign,
								  &elems, &nulls, &n);
				profile_push_key(st, key);
				pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
				for (int i = 0; i < n; i++)
				{
					if (nulls[i])
					{
						JsonbValue	null;

						null.type = jbvNull;
						pushJsonbValue(st, WJB_ELEM, &null);
					}
					else if (elemtype == INT4OID)
						push_int_value(st, WJB_ELEM, DatumGetInt32(elems[i]));
					else
					{
						text	   *t = DatumGetTextPP(elems[i]);

						push_string_value(st, WJB_ELEM, VARDATA_ANY(t),
										  VARSIZE_ANY_EXHDR(t));
					}
				}
				pushJsonbValue(st, WJB_END_ARRAY, NULL);
				break;
			}
		case INT8OID:
			profile_push_int(st, key, DatumGetInt64(value));
			break;
		case UUIDOID:
			profile_push_uuid(st, key, DatumGetUUIDP(value));
			break;
		case TIMESTAMPTZOID:
			profile_push_timestamp(st, key, DatumGetTimestampTz(value));
			break;
		default:
			{
				/* any other type: its text form */
				Oid			out;
				bool		isvarlena;

				getTypeOutputInfo(typid, &out, &isvarlena);
				profile_push_text(st, key, OidOutputFunctionCall(out, value));
				break;
			}
	}
}

/*
 * The profile document of SPEC section 3 (create_profile, update_profile):
 * the fixed keys always, null where unset; every other field only when it
 * has a value; never the password.
 */
Jsonb	   *
profile_result(const ProfileRow *row, const ApiCall *ctx)
{
	JsonbParseState *st = NULL;
	JsonbValue *res;
	static const PeField always[] = {
		PE_F_USERNAME, PE_F_EMAIL, PE_F_PHONE, PE_F_COUNTRY, PE_F_FULL_NAME,
		PE_F_LANGUAGE, PE_F_ENABLED, PE_F_ROLES, PE_F_ATTRIBUTES
	};
	bool		done[PE_F__COUNT] = {0};

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_uuid(&st, "id", &row->id);
	profile_push_text(&st, "tenant", row->tenant_name);
	profile_push_text(&st, "state", row->incomplete ? "incomplete" : "complete");
	profile_push_text(&st, "message", row->message);
	profile_push_text(&st, "wizard_url", row->wizard_url);
	for (int i = 0; i < lengthof(always); i++)
	{
		PeField		f = always[i];

		if (row->isnull[f])
			profile_push_null(&st, pe_fields[f].name);
		else
			profile_push_datum(&st, pe_fields[f].name, row->values[f],
							   profile_field_type(f));
		done[f] = true;
	}
	profile_push_bool(&st, "verified", row->verified);
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		if (done[f] || row->isnull[f] || f == PE_F_PASSWORD)
			continue;
		profile_push_datum(&st, pe_fields[f].name, row->values[f],
						   profile_field_type(f));
	}
	profile_push_timestamp(&st, "created_at", row->created_at);
	profile_push_timestamp(&st, "updated_at", row->updated_at);
	if (row->first_login_at == DT_NOBEGIN)
		profile_push_null(&st, "first_login_at");
	else
		profile_push_timestamp(&st, "first_login_at", row->first_login_at);
	if (row->last_login_at == DT_NOBEGIN)
		profile_push_null(&st, "last_login_at");
	else
		profile_push_timestamp(&st, "last_login_at", row->last_login_at);
	profile_push_uuid(&st, "trace_id", &ctx->trace_id);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}
