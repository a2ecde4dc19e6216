/*-------------------------------------------------------------------------
 *
 * src/model/fields.c
 *		Reading the profile fields of a payload and checking them with the
 *		rule core (README, Reference).
 *
 * profile_read_payload makes one pass over the payload's top-level keys:
 * it maps names and aliases to fields, drops JSON nulls ("not given") and
 * notes unknown keys and alias conflicts.  profile_check_fields then turns
 * each given value into its column value, collecting every broken rule so
 * that a request learns about all of them at once.
 *
 * The rules of a whole profile live here too, once each, for every path
 * that makes or changes one (create, update, registration, batches): the
 * defaults of fields not given, the value a cleared field takes, the
 * country a phone number gives, contact_required and completeness.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "base/crypto.h"
#include "base/json.h"
#include "core/pe_identity.h"
#include "core/pe_json.h"
#include "core/pe_url.h"
#include "core/pe_validate.h"
#include "model/fields.h"

/* Column of profile_data.profiles behind each field. */
static const char *const field_columns[PE_F__COUNT] = {
	[PE_F_USERNAME] = "username",
	[PE_F_PASSWORD] = "password_hash",
	[PE_F_EMAIL] = "email",
	[PE_F_PHONE] = "mobile_phone_number",
	[PE_F_COUNTRY] = "country_code",
	[PE_F_FULL_NAME] = "full_name",
	[PE_F_LANGUAGE] = "language",
	[PE_F_ENABLED] = "enabled",
	[PE_F_ROLES] = "roles",
	[PE_F_ATTRIBUTES] = "attributes",
	[PE_F_VERIFICATION_URL] = "verification_url",
	[PE_F_ACCESS_LEVEL] = "access_level",
	[PE_F_MEMBERSHIP_ID] = "membership_id",
	[PE_F_PENDING_MEMBERSHIP_ID] = "pending_membership_id",
	[PE_F_ROLE_IDS] = "role_ids",
	[PE_F_MAIL_CHIMP_LISTS] = "mail_chimp_lists",
	[PE_F_MAIL_CHIMP_INTERESTS] = "mail_chimp_interests",
	[PE_F_MAIL_CHIMP_SEGMENTS] = "mail_chimp_segments",
	[PE_F_STORED_SELECTORS] = "stored_selectors",
	[PE_F_SOCIAL_LOGIN_PROVIDER] = "social_login_provider",
	[PE_F_SOCIAL_LOGIN_ID] = "social_login_id",
	[PE_F_CONCIERGE_USER_ID] = "concierge_user_id",
	[PE_F_STRIPE_CUSTOMER_ID] = "stripe_customer_id",
	[PE_F_GA_CLIENT_ID] = "ga_client_id",
	[PE_F_STATUS_COMMENT] = "status_comment",
	[PE_F_REFERER] = "referer",
	[PE_F_FORCE_CHANGE_PASSWORD] = "force_change_password",
};

const char *
profile_field_column(int f)
{
	return field_columns[f];
}

/* SQL type of a field's column. */
Oid
profile_field_type(int f)
{
	switch (pe_fields[f].type)
	{
		case PE_T_ENABLED:
		case PE_T_BOOL:
			return BOOLOID;
		case PE_T_ROLES:
		case PE_T_TEXT_ARRAY:
			return TEXTARRAYOID;
		case PE_T_ATTRIBUTES:
			return JSONBOID;
		case PE_T_ACCESS_LEVEL:
		case PE_T_INT:
			return INT4OID;
		case PE_T_INT_ARRAY:
			return INT4ARRAYOID;
		default:
			return TEXTOID;
	}
}

static PeJsonKind
json_kind(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return PE_JSON_NULL;
		case jbvString:
			return PE_JSON_STRING;
		case jbvNumeric:
			return PE_JSON_NUMBER;
		case jbvBool:
			return PE_JSON_BOOL;
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ?
				PE_JSON_ARRAY : PE_JSON_OBJECT;
		default:
			return PE_JSON_NULL;
	}
}

/* One pass over the payload's keys. */
void
profile_read_payload(Jsonb *payload, ProfileInput *in)
{
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;

	memset(in, 0, offsetof(ProfileInput, errs));
	in->errs.count = 0;
	in->errs.truncated = false;

	it = JsonbIteratorInit(&payload->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		bool		alias;
		int			f;
		char	   *key;

		CHECK_FOR_INTERRUPTS();
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &v, true);
		f = pe_field_lookup(k.val.string.val, k.val.string.len, &alias);
		if (f < 0)
		{
			profile_add_error(&in->errs,
							  pnstrdup(k.val.string.val, k.val.string.len),
							  "unknown", "is not a known field");
			continue;
		}
		key = (char *) (alias ? pe_fields[f].alias : pe_fields[f].name);
		if (v.type == jbvNull)
		{
			in->cleared[f] = true;
			if (!in->present[f])
				in->key[f] = key;
			continue;
		}
		if (in->present[f])
		{
			profile_add_error(&in->errs, pe_fields[f].name, "conflict",
							  psprintf("must not be given together with its alias \"%s\"",
									   pe_fields[f].alias));
			if (f == PE_F_ACCESS_TOKEN || f == PE_F_TENANT)
				in->alias_conflict = true;
			continue;
		}
		in->present[f] = true;
		in->key[f] = key;
		in->raw[f] = v;
	}
}

/* The payload value as a NUL-terminated string. */
static char *
raw_cstring(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static bool
numeric_integer(const JsonbValue *v, int64 *out)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out,
														NumericGetDatum(v->val.numeric)));

	return pe_parse_integer(s, strlen(s), out);
}

/*
 * Check one string value of a text-typed field (username, password,
 * email, phone, country, language, URL, the plain texts).  On success
 * *out is the normalised column value; a phone number also reports the
 * country its calling code belongs to, if only one.
 */
const PeRule *
profile_check_string(int f, const char *s, size_t len, Datum *out,
					 PePhone *phone)
{
	const PeFieldDef *def = &pe_fields[f];
	const PeRule *r;
	char		buf[3];
	char	   *norm = NULL;
	PeUsername *u = NULL;

	switch (def->type)
	{
		case PE_T_USERNAME:
			u = palloc(sizeof(PeUsername));
			r = pe_username_check(s, len, u);
			if (r == &pe_rule_internal)
				ereport(ERROR,
						errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("could not check a username"),
						errdetail("ICU could not normalise it or judge its scripts."));
			norm = u->nfc;		/* stored in NFC */
			break;
		case PE_T_PASSWORD:
			r = pe_check_password(s, len);
			break;
		case PE_T_LANGUAGE:
			r = pe_check_language(s, len);
			break;
		case PE_T_URL:
			r = pe_check_url(s, len);
			break;
		case PE_T_EMAIL:
			norm = palloc(len + 1);
			r = pe_normalize_email(s, len, norm);
			break;
		case PE_T_PHONE:
			r = pe_check_phone(s, len, phone);
			if (r == &pe_rule_internal)
				ereport(ERROR,
						errcode(ERRCODE_OUT_OF_MEMORY),
						errmsg("out of memory"),
						errdetail("Could not compile a pattern of the phone number rule."));
			norm = phone->e164;
			break;
		case PE_T_COUNTRY:
			r = pe_normalize_country(s, len, buf);
			norm = buf;
			break;
		default:
			r = pe_check_text(def, s, len);
			break;
	}
	if (r == NULL)
		*out = norm ? CStringGetTextDatum(norm) :
			PointerGetDatum(cstring_to_text_with_len(s, len));
	/* a username's buffers are large: a batch checks a thousand of them */
	if (u)
		pfree(u);
	return r;
}

/*
 * The tenant's phone_types: a valid number of a type it does not list
 * breaks rule "type".
 */
const PeRule *
profile_check_phone_type(const TenantInfo *tenant, const PePhone *phone)
{
	static const PeRule type_rule = {"type", "is not of a phone type the tenant accepts (phone_types)"};

	if (tenant->phone_types < 0)
		return NULL;
	if (phone->type < 0 || phone->type >= PE_PHONE__COUNT ||
		(tenant->phone_types & (1 << phone->type)) == 0)
		return &type_rule;
	return NULL;
}

static const PeRule attr_object = {"format", "must hold a JSON object"};

/*
 * attributes as stored: an object within the nesting and size limits.  The
 * size is the serialised text's, measured without writing more of it than
 * the limit (a jsonb number can be far longer written out).
 */
const PeRule *
profile_check_attributes(Jsonb *attrs)
{
	if (!JB_ROOT_IS_OBJECT(attrs))
		return &attr_object;
	if (profile_jsonb_depth(&attrs->root, PE_MAX_ATTR_DEPTH) > PE_MAX_ATTR_DEPTH)
		return &pe_rule_attr_depth;
	if (profile_jsonb_text_exceeds(&attrs->root, PE_MAX_ATTR_BYTES))
		return &pe_rule_attr_size;
	return NULL;
}

/* attributes: an object, or a string holding one. */
static Jsonb *
check_attributes(const JsonbValue *v, const char *key, FieldErrors *errs)
{
	Jsonb	   *attrs;
	const PeRule *r;

	if (v->type == jbvString)
	{
		JsonLexContext *lex;

		/* the parser recurses: refuse deep text before it sees it */
		if (pe_json_depth_exceeds(v->val.string.val, v->val.string.len,
								  PE_MAX_ATTR_DEPTH))
		{
			profile_add_rule(errs, key, &pe_rule_attr_depth);
			return NULL;
		}
		lex = profile_json_lexer(v->val.string.val, v->val.string.len);
		if (pg_parse_json(lex, &nullSemAction) != JSON_SUCCESS)
		{
			profile_add_error(errs, key, "format", "must hold a JSON object");
			return NULL;
		}
		attrs = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												   CStringGetDatum(raw_cstring(v))));
		if (!JB_ROOT_IS_OBJECT(attrs) || JB_ROOT_IS_SCALAR(attrs))
		{
			profile_add_error(errs, key, "format", "must hold a JSON object");
			return NULL;
		}
	}
	else
		attrs = JsonbValueToJsonb((JsonbValue *) v);

	if ((r = profile_check_attributes(attrs)) != NULL)
	{
		profile_add_rule(errs, key, r);
		return NULL;
	}
	return attrs;
}

/* Is the role allowed in the tenant (allowed_roles, if it sets one)? */
bool
profile_role_allowed(const TenantInfo *t, const char *role, size_t len)
{
	if (t->n_allowed_roles < 0)
		return true;
	for (int i = 0; i < t->n_allowed_roles; i++)
		if (strlen(t->allowed_roles[i]) == len &&
			memcmp(t->allowed_roles[i], role, len) == 0)
			return true;
	return false;
}

/*
 * roles: an array of strings; role: a comma-separated string.  At most
 * PE_MAX_ROLES entries as given, each a valid role name; duplicates are
 * dropped; within the tenant's allowed_roles.  No roles: the tenant's
 * default roles.
 */
static Datum
check_roles(const JsonbValue *v, const char *key, const TenantInfo *t,
			FieldErrors *errs)
{
	const char *items[PE_MAX_ROLES];
	int			lens[PE_MAX_ROLES];
	PeSpan		scratch[PE_MAX_ROLES];
	Datum		roles[PE_MAX_ROLES];
	int			n = 0;
	const PeRule *r;

	if (v->type == jbvString)
	{
		const char *s = v->val.string.val;
		int			len = v->val.string.len;

		for (int start = 0; start < len;)
		{
			int			end = start,
						a,
						b;

			CHECK_FOR_INTERRUPTS();
			while (end < len && s[end] != ',')
				end++;
			for (a = start; a < end && s[a] == ' '; a++);
			for (b = end; b > a && s[b - 1] == ' '; b--);
			if (n == PE_MAX_ROLES)
			{
				profile_add_rule(errs, key, &pe_rule_roles_count);
				return (Datum) 0;
			}
			if ((r = pe_check_role(s + a, b - a)) != NULL)
			{
				profile_add_rule(errs, key, r);
				return (Datum) 0;
			}
			items[n] = s + a;
			lens[n++] = b - a;
			start = end + 1;
		}
	}
	else
	{
		JsonbIterator *it;
		JsonbValue	e;
		JsonbIteratorToken tok;

		if (JsonContainerSize(v->val.binary.data) > PE_MAX_ROLES)
		{
			profile_add_rule(errs, key, &pe_rule_roles_count);
			return (Datum) 0;
		}
		it = JsonbIteratorInit(v->val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		{
			if (tok != WJB_ELEM)
				continue;
			if (e.type != jbvString)
			{
				profile_add_error(errs, key, "type", "must be an array of strings");
				return (Datum) 0;
			}
			if ((r = pe_check_role(e.val.string.val, e.val.string.len)) != NULL)
			{
				profile_add_rule(errs, key, r);
				return (Datum) 0;
			}
			items[n] = e.val.string.val;
			lens[n++] = e.val.string.len;
		}
	}

	if (n == 0)
		return profile_default_roles(t);
	n = pe_dedupe(items, lens, n, scratch);
	for (int i = 0; i < n; i++)
	{
		if (!profile_role_allowed(t, items[i], lens[i]))
		{
			profile_add_error(errs, key, "allowed",
							  "every role must be in the tenant's allowed_roles");
			return (Datum) 0;
		}
		roles[i] = PointerGetDatum(cstring_to_text_with_len(items[i], lens[i]));
	}
	return PointerGetDatum(construct_array(roles, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/* The tenant's default roles, as a text[]. */
Datum
profile_default_roles(const TenantInfo *tenant)
{
	Datum	   *roles = palloc(sizeof(Datum) * (tenant->n_default_roles + 1));

	for (int i = 0; i < tenant->n_default_roles; i++)
		roles[i] = CStringGetTextDatum(tenant->default_roles[i]);
	return PointerGetDatum(construct_array(roles, tenant->n_default_roles,
										   TEXTOID, -1, false, TYPALIGN_INT));
}

/* Column name of a stored profile row, which our rows never have null. */
static Datum
required_column(HeapTuple tup, TupleDesc desc, const char *name)
{
	int			attno = SPI_fnumber(desc, name);
	bool		isnull = true;
	Datum		d = (Datum) 0;

	if (attno > 0)
		d = heap_getattr(tup, attno, desc, &isnull);
	if (isnull)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("a row of table \"profile_data.profiles\" is damaged"),
				errdetail("Column \"%s\" is null or missing.", name));
	return d;
}

/* Column name of a stored profile row as a timestamp; DT_NOBEGIN: null. */
static TimestampTz
optional_timestamp(HeapTuple tup, TupleDesc desc, const char *name)
{
	int			attno = SPI_fnumber(desc, name);
	bool		isnull = true;
	Datum		d = (Datum) 0;

	if (attno > 0)
		d = heap_getattr(tup, attno, desc, &isnull);
	return isnull ? DT_NOBEGIN : DatumGetTimestampTz(d);
}

/*
 * A stored profile row as a ProfileRow (the result document's input).
 * password_hash is read like any column; the document never shows it.  A
 * row damaged behind the extension's back is reported, never followed.
 */
void
profile_row_from_tuple(HeapTuple tup, TupleDesc desc, ProfileRow *row)
{
	static const PeField never_null[] = {PE_F_ENABLED, PE_F_ROLES, PE_F_ATTRIBUTES};

	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		int			attno = SPI_fnumber(desc, field_columns[f]);

		row->isnull[f] = true;
		if (attno > 0)
			row->values[f] = heap_getattr(tup, attno, desc, &row->isnull[f]);
	}
	/* the field columns a profile always has */
	for (int i = 0; i < lengthof(never_null); i++)
		if (row->isnull[never_null[i]])
			(void) required_column(tup, desc, field_columns[never_null[i]]);
	memset(&row->phone, 0, sizeof(row->phone));
	row->tenant_id = DatumGetInt64(required_column(tup, desc, "tenant_id"));
	row->id = *DatumGetUUIDP(required_column(tup, desc, "id"));
	row->incomplete = strcmp(TextDatumGetCString(required_column(tup, desc, "state")),
							 "incomplete") == 0;
	row->verified = DatumGetBool(required_column(tup, desc, "verified"));
	row->created_at = DatumGetTimestampTz(required_column(tup, desc, "created_at"));
	row->updated_at = DatumGetTimestampTz(required_column(tup, desc, "updated_at"));
	row->first_login_at = optional_timestamp(tup, desc, "first_login_at");
	row->last_login_at = optional_timestamp(tup, desc, "last_login_at");
	/* the keys as stored */
	for (int k = 0; k < PROFILE_N_KEYS; k++)
	{
		int			attno = SPI_fnumber(desc, profile_key_columns[k]);

		row->keynull[k] = true;
		if (attno > 0)
			row->keys[k] = heap_getattr(tup, attno, desc, &row->keynull[k]);
	}
}

/* integer[] or string[] fields */
static Datum
check_array(const PeFieldDef *def, const JsonbValue *v, const char *key,
			FieldErrors *errs)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	Datum	   *items;
	int			n = 0;
	bool		ints = def->type == PE_T_INT_ARRAY;

	if (JsonContainerSize(v->val.binary.data) > PE_MAX_ARRAY_ITEMS)
	{
		profile_add_rule(errs, key, &pe_rule_items_count);
		return (Datum) 0;
	}
	items = palloc(sizeof(Datum) * (JsonContainerSize(v->val.binary.data) + 1));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		if (tok != WJB_ELEM)
			continue;
		if (ints)
		{
			int64		i;

			if (e.type != jbvNumeric || !numeric_integer(&e, &i) || pe_check_int(i))
			{
				profile_add_rule(errs, key, &pe_rule_int_items);
				return (Datum) 0;
			}
			items[n++] = Int32GetDatum((int32) i);
		}
		else
		{
			if (e.type != jbvString)
			{
				profile_add_error(errs, key, "type", "must be an array of strings");
				return (Datum) 0;
			}
			if (pe_utf8_chars(e.val.string.val, e.val.string.len) > (size_t) def->max_chars)
			{
				profile_add_rule(errs, key, &pe_rule_selector_length);
				return (Datum) 0;
			}
			items[n++] = PointerGetDatum(cstring_to_text_with_len(e.val.string.val,
																  e.val.string.len));
		}
	}
	if (ints)
		return PointerGetDatum(construct_array(items, n, INT4OID, 4, true,
											   TYPALIGN_INT));
	return PointerGetDatum(construct_array(items, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * Check every given profile field, filling row->values/isnull with the
 * normalised column values of the fields given (the others null); broken
 * rules go to errs.  A phone number as parsed goes to row->phone.
 * The password is left in clear text for the caller to hash.
 */
void
profile_check_fields(ProfileInput *in, const TenantInfo *tenant,
					 ProfileRow *row, FieldErrors *errs)
{
	memset(&row->phone, 0, sizeof(row->phone));

	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		const PeFieldDef *def = &pe_fields[f];
		const JsonbValue *v = &in->raw[f];
		const char *key = in->key[f];
		const PeRule *r;
		Datum		value = (Datum) 0;

		row->isnull[f] = true;
		if (!in->present[f])
			continue;
		if ((r = pe_check_type(def->type, json_kind(v))) != NULL)
		{
			profile_add_rule(errs, key, r);
			continue;
		}

		if (pe_type_is_string(def->type))
		{
			r = profile_check_string(f, v->val.string.val, v->val.string.len,
									 &value, &row->phone);
			if (r == NULL && def->type == PE_T_PHONE)
				r = profile_check_phone_type(tenant, &row->phone);
		}
		else
			switch (def->type)
			{
				case PE_T_ENABLED:
					{
						bool		b = false;
						static const PeRule status_rule = {"format", "must be \"E\" or \"D\""};
						static const PeRule enabled_rule = {"type", "must be a boolean or \"true\"/\"false\""};

						if (strcmp(key, "status") == 0)
						{
							if (v->type != jbvString ||
								!pe_parse_status(v->val.string.val, v->val.string.len, &b))
								r = &status_rule;
						}
						else if (v->type == jbvBool)
							b = v->val.boolean;
						else if (!pe_parse_bool_text(v->val.string.val, v->val.string.len, &b))
							r = &enabled_rule;
						value = BoolGetDatum(b);
						break;
					}
				case PE_T_BOOL:
					value = BoolGetDatum(v->val.boolean);
					break;
				case PE_T_ACCESS_LEVEL:
				case PE_T_INT:
					{
						int64		i;
						static const PeRule int_rule = {"type", "must be an integer"};

						if (!numeric_integer(v, &i))
							r = &int_rule;
						else if (def->type == PE_T_ACCESS_LEVEL)
							r = pe_check_access_level(i);
						else
							r = pe_check_int(i);
						if (r == NULL)
							value = Int32GetDatum((int32) i);
						break;
					}
				case PE_T_ROLES:
					{
						int			before = errs->count;

						value = check_roles(v, key, tenant, errs);
						if (errs->count > before)
							continue;
						break;
					}
				case PE_T_ATTRIBUTES:
					{
						Jsonb	   *attrs = check_attributes(v, key, errs);

						if (attrs == NULL)
							continue;
						value = JsonbPGetDatum(attrs);
						break;
					}
				case PE_T_INT_ARRAY:
				case PE_T_TEXT_ARRAY:
					{
						int			before = errs->count;

						value = check_array(def, v, key, errs);
						if (errs->count > before)
							continue;
						break;
					}
				default:		/* strings above; request keys not here */
					continue;
			}
		if (r != NULL)
		{
			profile_add_rule(errs, key, r);
			continue;
		}
		row->values[f] = value;
		row->isnull[f] = false;
	}
}

/*
 * The value a field takes in a new profile when the request does not give
 * it: enabled true, the tenant's default roles, empty attributes; the
 * others none.  Returns false for "none".  (tenant may be NULL for any
 * field but roles.)
 */
bool
profile_default_value(int f, const TenantInfo *tenant, Datum *value)
{
	switch (f)
	{
		case PE_F_ENABLED:
			*value = BoolGetDatum(true);
			return true;
		case PE_F_ROLES:
			*value = profile_default_roles(tenant);
			return true;
		case PE_F_ATTRIBUTES:
			*value = JsonbPGetDatum(profile_empty_object());
			return true;
		default:
			return false;
	}
}

/*
 * The value a field takes when update_profile clears it with null: enabled
 * back to true, roles and attributes empty; the others none.
 */
bool
profile_cleared_value(int f, Datum *value)
{
	if (f == PE_F_ROLES)
	{
		*value = PointerGetDatum(construct_empty_array(TEXTOID));
		return true;
	}
	return profile_default_value(f, NULL, value);
}

/* Give every field of row that given[] says was not given its default. */
void
profile_apply_defaults(ProfileRow *row, const bool *given,
					   const TenantInfo *tenant)
{
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		if (given && given[f])
			continue;
		row->isnull[f] = !profile_default_value(f, tenant, &row->values[f]);
	}
}

/*
 * A profile without a country gets the one its phone number gives, if
 * phone_given (the number is new in this request).
 */
void
profile_country_from_phone(ProfileRow *row, bool phone_given)
{
	const char *country = pe_phone_country(&row->phone);

	if (phone_given && row->isnull[PE_F_COUNTRY] && country != NULL)
	{
		row->values[PE_F_COUNTRY] = CStringGetTextDatum(country);
		row->isnull[PE_F_COUNTRY] = false;
	}
}

/*
 * contact_required: an email or a mobile phone number.  has[f]: the
 * profile has field f (given in the request, or stored).
 */
void
profile_check_contact(const bool *has, FieldErrors *errs)
{
	if (!has[PE_F_EMAIL] && !has[PE_F_PHONE])
		profile_add_error(errs, "email", "contact_required",
						  "an email or a mobile_phone_number is required");
}

/*
 * Completeness: every complete_fields entry of the tenant must be there
 * (has[f], as above).  With incomplete_profiles a profile that lacks some
 * is incomplete (the result); without, each missing one is an error.
 */
bool
profile_missing_complete(const TenantInfo *tenant, const bool *has,
						 FieldErrors *errs)
{
	bool		missing = false;

	for (int i = 0; i < tenant->n_complete; i++)
	{
		int			f = tenant->complete_fields[i];

		if (has[f])
			continue;
		missing = true;
		if (!tenant->incomplete_profiles)
			profile_add_error(errs, pe_fields[f].name, "required",
							  "is required by the tenant");
	}
	return missing && tenant->incomplete_profiles;
}

/*
 * A new profile starts unverified.  In a verifying tenant it also starts
 * disabled, whatever the request says, until its link is followed; every
 * path that makes a profile (create, registration, batches) calls this.
 */
void
profile_start_unverified(ProfileRow *row, const TenantInfo *tenant)
{
	row->verified = false;
	if (tenant->verification)
	{
		row->values[PE_F_ENABLED] = BoolGetDatum(false);
		row->isnull[PE_F_ENABLED] = false;
	}
}

/* The columns of the identity keys, by ProfileKey. */
const char *const profile_key_columns[PROFILE_N_KEYS] = {
	[PROFILE_KEY_USERNAME] = "username_key",
	[PROFILE_KEY_SKELETON] = "username_skeleton",
	[PROFILE_KEY_SHAPE] = "username_shape",
	[PROFILE_KEY_EMAIL] = "email_key",
	[PROFILE_KEY_PHONE] = "phone_key",
};

/* The field a taken key names in PROFILE_EXISTS, by ProfileKey. */
const char *const profile_key_fields[PROFILE_N_KEYS] = {
	[PROFILE_KEY_USERNAME] = "username",
	[PROFILE_KEY_SKELETON] = "username",
	[PROFILE_KEY_SHAPE] = "username",
	[PROFILE_KEY_EMAIL] = "email",
	[PROFILE_KEY_PHONE] = "mobile_phone_number",
};

/* text of len bytes as a Datum; NULL-safe on the key's absence. */
static void
set_key(ProfileRow *row, ProfileKey k, const char *s, int len)
{
	row->keynull[k] = len < 0;
	row->keys[k] = len < 0 ? (Datum) 0 :
		PointerGetDatum(cstring_to_text_with_len(s, len));
}

/*
 * The keys by which a profile is unique in its tenant, from its values
 * (README, "Identity"): the username's NFKC_Casefold key (and, in a tenant
 * with username_uniqueness "confusable", that key's UTS #39 skeleton), the
 * email lower-cased in ASCII, the phone number in E.164.  Every path that
 * stores or looks up a profile computes them here, so the same value
 * always gets the same key, whatever the database's locale.
 */
void
profile_identity_keys(ProfileRow *row, const TenantInfo *tenant)
{
	for (int k = 0; k < PROFILE_N_KEYS; k++)
		set_key(row, k, NULL, -1);
	if (!row->isnull[PE_F_USERNAME])
	{
		text	   *t = DatumGetTextPP(row->values[PE_F_USERNAME]);
		char	   *key = palloc(PE_USERNAME_KEY_CAP);
		int			n = pe_username_key(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), key,
										PE_USERNAME_KEY_CAP);

		if (n < 0)
			ereport(ERROR,
					errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("a username is too long to be compared"));
		set_key(row, PROFILE_KEY_USERNAME, key, n);
		if (tenant->confusable)
		{
			char	   *skeleton = palloc(PE_USERNAME_SKELETON_CAP);

			n = pe_username_skeleton(key, n, skeleton, PE_USERNAME_SKELETON_CAP);
			if (n < 0)
				ereport(ERROR,
						errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("a username is too long to be compared"));
			set_key(row, PROFILE_KEY_SKELETON, skeleton, n);
			n = pe_username_shape(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), skeleton,
								  PE_USERNAME_SKELETON_CAP);
			if (n < 0)
				ereport(ERROR,
						errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("a username is too long to be compared"));
			set_key(row, PROFILE_KEY_SHAPE, skeleton, n);
			pfree(skeleton);
		}
		pfree(key);				/* large, as above */
	}
	if (!row->isnull[PE_F_EMAIL])
	{
		text	   *t = DatumGetTextPP(row->values[PE_F_EMAIL]);
		size_t		len = VARSIZE_ANY_EXHDR(t);
		char	   *key = palloc(len + 1);

		pe_email_key(VARDATA_ANY(t), len, key);
		set_key(row, PROFILE_KEY_EMAIL, key, len);
	}
	if (!row->isnull[PE_F_PHONE])
	{
		row->keys[PROFILE_KEY_PHONE] = row->values[PE_F_PHONE];
		row->keynull[PROFILE_KEY_PHONE] = false;
	}
}

/*
 * The keys of a changed row: computed anew for the fields the change
 * touched (changed[], by PeField), kept as stored for the others, so that a
 * row an upgrade listed as colliding (its key left null) keeps working.
 * Such a row's own key is offered in reclaim[]: it takes it once no other
 * profile holds it (store/profiles.c, profile_reclaim_keys).  The skeleton
 * follows the username's key and the tenant's setting.
 */
void
profile_rekey(ProfileRow *row, const TenantInfo *tenant, const bool *changed)
{
	static const struct
	{
		ProfileKey	key;
		PeField		field;
	}			kept[] = {
		{PROFILE_KEY_USERNAME, PE_F_USERNAME},
		{PROFILE_KEY_EMAIL, PE_F_EMAIL},
		{PROFILE_KEY_PHONE, PE_F_PHONE},
	};
	Datum		stored[PROFILE_N_KEYS];
	bool		stored_null[PROFILE_N_KEYS];

	memcpy(stored, row->keys, sizeof(stored));
	memcpy(stored_null, row->keynull, sizeof(stored_null));
	profile_identity_keys(row, tenant);
	for (int k = 0; k < PROFILE_N_KEYS; k++)
		row->reclaim_null[k] = true;
	for (int i = 0; i < lengthof(kept); i++)
	{
		ProfileKey	k = kept[i].key;

		if (changed[kept[i].field])
			continue;
		if (stored_null[k] && !row->keynull[k])
		{
			row->reclaim[k] = row->keys[k];
			row->reclaim_null[k] = false;
		}
		row->keys[k] = stored[k];
		row->keynull[k] = stored_null[k];
	}
	/* a username without its key has no skeleton either */
	if (row->keynull[PROFILE_KEY_USERNAME])
	{
		if (!row->reclaim_null[PROFILE_KEY_USERNAME])
		{
			row->reclaim[PROFILE_KEY_SKELETON] = row->keys[PROFILE_KEY_SKELETON];
			row->reclaim_null[PROFILE_KEY_SKELETON] = row->keynull[PROFILE_KEY_SKELETON];
			row->reclaim[PROFILE_KEY_SHAPE] = row->keys[PROFILE_KEY_SHAPE];
			row->reclaim_null[PROFILE_KEY_SHAPE] = row->keynull[PROFILE_KEY_SHAPE];
		}
		row->keys[PROFILE_KEY_SKELETON] = (Datum) 0;
		row->keynull[PROFILE_KEY_SKELETON] = true;
		row->keys[PROFILE_KEY_SHAPE] = (Datum) 0;
		row->keynull[PROFILE_KEY_SHAPE] = true;
	}
}

/* Replace the clear-text password of a checked row by its Argon2id hash. */
void
profile_hash_row_password(ProfileRow *row)
{
	text	   *pw = DatumGetTextPP(row->values[PE_F_PASSWORD]);

	row->values[PE_F_PASSWORD] =
		CStringGetTextDatum(profile_hash_password(VARDATA_ANY(pw), VARSIZE_ANY_EXHDR(pw)));
}
