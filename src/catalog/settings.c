/*-------------------------------------------------------------------------
 *
 * src/catalog/settings.c
 *		Tenant settings (README, "Tenant settings"): validation, defaults and the
 *		stored form.
 *
 * A tenant's settings are stored as the complete document, every key
 * present with its value or default, so readers never need to know the
 * defaults.  profile_parse_settings checks a (partial) document and fills
 * a TenantInfo; profile_settings_jsonb writes a TenantInfo back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/numeric.h"

#include "base/json.h"
#include "catalog/settings.h"
#include "core/pe_fields.h"
#include "core/pe_url.h"
#include "core/pe_validate.h"

static const char *
field_name(const char *prefix, const char *key)
{
	return prefix ? psprintf("%s.%s", prefix, key) : key;
}

/* The defaults of contract §1. */
static void
settings_defaults(TenantInfo *t)
{
	memset(t, 0, sizeof(*t));
	t->enabled = true;
	t->required_contract = pstrdup("create_customer_api");
	t->n_allowed_roles = -1;
	t->verification_ttl = pstrdup("24 hours");
	t->idempotency_ttl = pstrdup("24 hours");
	t->per_second = 10;
	t->per_minute = 150;
	t->confusable = false;
	t->phone_types = -1;
}

static char *
jbv_cstring(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * Read an array of strings that each pass check (NULL: any string).
 * Returns false, with an error added, if the array does not fit.
 */
static bool
string_array(const JsonbValue *v, const PeRule *(*check) (const char *, size_t),
			 FieldErrors *errs, const char *field, int *n, char ***out)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	int			count = 0;
	const char **items;
	int		   *lens;
	PeSpan	   *scratch;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
	{
		profile_add_error(errs, field, "type", "must be an array of strings");
		return false;
	}
	if (JsonContainerSize(v->val.binary.data) > PE_MAX_ARRAY_ITEMS)
	{
		profile_add_rule(errs, field, &pe_rule_items_count);
		return false;
	}
	items = palloc(sizeof(char *) * Max(JsonContainerSize(v->val.binary.data), 1));
	lens = palloc(sizeof(int) * Max(JsonContainerSize(v->val.binary.data), 1));
	scratch = palloc(sizeof(PeSpan) * Max(JsonContainerSize(v->val.binary.data), 1));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		const PeRule *r;

		if (tok != WJB_ELEM)
			continue;
		if (elem.type != jbvString)
		{
			profile_add_error(errs, field, "type", "must be an array of strings");
			return false;
		}
		if (check && (r = check(elem.val.string.val, elem.val.string.len)) != NULL)
		{
			profile_add_rule(errs, field, r);
			return false;
		}
		items[count] = elem.val.string.val;
		lens[count++] = elem.val.string.len;
	}
	count = pe_dedupe(items, lens, count, scratch);
	*out = palloc(sizeof(char *) * Max(count, 1));
	for (int i = 0; i < count; i++)
		(*out)[i] = pnstrdup(items[i], lens[i]);
	*n = count;
	return true;
}

static const PeRule *
check_field_name(const char *s, size_t len)
{
	static const PeRule r = {"format", "each entry must be a canonical profile field name"};

	return pe_field_by_name(s, len) < 0 ? &r : NULL;
}

static const PeRule *
check_phone_type(const char *s, size_t len)
{
	static const PeRule r = {"format", "each entry must be a phone number type: mobile, fixed_line, fixed_line_or_mobile, toll_free, premium_rate, shared_cost, voip, personal_number, pager, uan or voicemail"};

	return pe_phone_type_lookup(s, len) < 0 ? &r : NULL;
}

static bool
read_nonnegative_int(const JsonbValue *v, int32 *out)
{
	int64		i;
	char	   *s;

	if (v->type != jbvNumeric)
		return false;
	s = DatumGetCString(DirectFunctionCall1(numeric_out,
											NumericGetDatum(v->val.numeric)));
	if (!pe_parse_integer(s, strlen(s), &i) || i < 0 || i > PE_MAX_INT)
		return false;
	*out = (int32) i;
	return true;
}

static void
parse_rate_limit(const JsonbValue *v, TenantInfo *t, FieldErrors *errs,
				 const char *field)
{
	JsonbIterator *it;
	JsonbValue	k,
				val;
	JsonbIteratorToken tok;

	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
	{
		profile_add_error(errs, field, "type",
						  "must be an object with per_second and per_minute");
		return;
	}
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		int32	   *target;

		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &val, true);
		if (k.val.string.len == 10 && memcmp(k.val.string.val, "per_second", 10) == 0)
			target = &t->per_second;
		else if (k.val.string.len == 10 && memcmp(k.val.string.val, "per_minute", 10) == 0)
			target = &t->per_minute;
		else
		{
			profile_add_error(errs, psprintf("%s.%.*s", field, k.val.string.len,
											 k.val.string.val),
							  "unknown", "is not a known setting");
			continue;
		}
		if (!read_nonnegative_int(&val, target))
			profile_add_error(errs, psprintf("%s.%.*s", field, k.val.string.len,
											 k.val.string.val),
							  "type", "must be an integer between 0 and 2147483647");
	}
}

/*
 * Check a settings document and fill *t from the defaults and the given
 * keys.  Field errors go to errs, named prefix.key.  Returns true when no
 * error was added.
 */
bool
profile_parse_settings(Jsonb *settings, TenantInfo *t, FieldErrors *errs,
					   const char *prefix)
{
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	int			before = errs->count;

	settings_defaults(t);
	if (!JB_ROOT_IS_OBJECT(settings) || JB_ROOT_IS_SCALAR(settings))
	{
		profile_add_error(errs, prefix ? prefix : "settings", "type",
						  "must be a JSON object");
		return false;
	}

	it = JsonbIteratorInit(&settings->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		int			s;
		const char *field;

		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &v, true);
		s = pe_setting_lookup(k.val.string.val, k.val.string.len);
		field = field_name(prefix, s >= 0 ? pe_setting_names[s] :
						   pnstrdup(k.val.string.val, k.val.string.len));
		switch (s)
		{
			case PE_S_ENABLED:
			case PE_S_INCOMPLETE_PROFILES:
			case PE_S_VERIFICATION:
				if (v.type != jbvBool)
					profile_add_error(errs, field, "type", "must be a boolean");
				else if (s == PE_S_ENABLED)
					t->enabled = v.val.boolean;
				else if (s == PE_S_INCOMPLETE_PROFILES)
					t->incomplete_profiles = v.val.boolean;
				else
					t->verification = v.val.boolean;
				break;
			case PE_S_REQUIRED_CONTRACT:
				if (v.type == jbvNull)
					t->required_contract = NULL;
				else if (v.type != jbvString)
					profile_add_error(errs, field, "type", "must be a string or null");
				else if (pe_check_name(v.val.string.val, v.val.string.len))
					profile_add_rule(errs, field,
									 pe_check_name(v.val.string.val, v.val.string.len));
				else
					t->required_contract = jbv_cstring(&v);
				break;
			case PE_S_COMPLETE_FIELDS:
				{
					int			n;
					char	  **names;

					if (string_array(&v, check_field_name, errs, field, &n, &names))
					{
						t->n_complete = n;
						for (int i = 0; i < n; i++)
							t->complete_fields[i] =
								(int16) pe_field_by_name(names[i], strlen(names[i]));
					}
					break;
				}
			case PE_S_WIZARD_URL:
				if (v.type == jbvNull)
					t->wizard_url = NULL;
				else if (v.type != jbvString)
					profile_add_error(errs, field, "type", "must be a string or null");
				else if (!strstr(jbv_cstring(&v), "{id}"))
					profile_add_error(errs, field, "format",
									  "must contain the placeholder {id}");
				else
				{
					pg_uuid_t	sample;
					char	   *link;
					const PeRule *r;

					/* the links it makes must be URLs, whatever the id */
					memset(&sample, 0xab, sizeof(sample));
					link = profile_wizard_url(jbv_cstring(&v), &sample);
					if ((r = pe_check_url(link, strlen(link))) != NULL)
						profile_add_rule(errs, field, r);
					else
						t->wizard_url = jbv_cstring(&v);
				}
				break;
			case PE_S_VERIFICATION_URL:
				if (v.type == jbvNull)
					t->verification_url = NULL;
				else if (v.type != jbvString)
					profile_add_error(errs, field, "type", "must be a string or null");
				else if (pe_check_url(v.val.string.val, v.val.string.len))
					profile_add_rule(errs, field,
									 pe_check_url(v.val.string.val, v.val.string.len));
				else
					t->verification_url = jbv_cstring(&v);
				break;
			case PE_S_VERIFICATION_TTL:
				if (v.type != jbvString)
					profile_add_error(errs, field, "type",
									  "must be an interval as text, such as \"24 hours\"");
				else
					t->verification_ttl = jbv_cstring(&v);
				break;
			case PE_S_IDEMPOTENCY_TTL:
				if (v.type != jbvString)
					profile_add_error(errs, field, "type",
									  "must be an interval as text, such as \"24 hours\"");
				else
					t->idempotency_ttl = jbv_cstring(&v);
				break;
			case PE_S_DEFAULT_ROLES:
				string_array(&v, pe_check_role, errs, field,
							 &t->n_default_roles, &t->default_roles);
				break;
			case PE_S_ALLOWED_ROLES:
				if (v.type == jbvNull)
					t->n_allowed_roles = -1;
				else
					string_array(&v, pe_check_role, errs, field,
								 &t->n_allowed_roles, &t->allowed_roles);
				break;
			case PE_S_RATE_LIMIT:
				parse_rate_limit(&v, t, errs, field);
				break;
			case PE_S_USERNAME_UNIQUENESS:
				if (v.type == jbvString && v.val.string.len == 8 &&
					memcmp(v.val.string.val, "casefold", 8) == 0)
					t->confusable = false;
				else if (v.type == jbvString && v.val.string.len == 10 &&
						 memcmp(v.val.string.val, "confusable", 10) == 0)
					t->confusable = true;
				else
					profile_add_error(errs, field, "format",
									  "must be \"casefold\" or \"confusable\"");
				break;
			case PE_S_PHONE_TYPES:
				if (v.type == jbvNull)
					t->phone_types = -1;
				else
				{
					int			n = 0;
					char	  **names;

					if (!string_array(&v, check_phone_type, errs, field, &n, &names))
						break;
					if (n == 0)
						profile_add_error(errs, field, "format",
										  "must list at least one phone type, or be null");
					else
					{
						t->phone_types = 0;
						for (int i = 0; i < n; i++)
							t->phone_types |= 1 << pe_phone_type_lookup(names[i], strlen(names[i]));
					}
				}
				break;
			default:
				profile_add_error(errs, field, "unknown", "is not a known setting");
				break;
		}
	}

	if (errs->count == before)
	{
		if (t->incomplete_profiles && t->wizard_url == NULL)
			profile_add_error(errs, field_name(prefix, "wizard_url"), "required",
							  "is required when incomplete_profiles is true");
		for (int i = 0; t->n_allowed_roles >= 0 && i < t->n_default_roles; i++)
		{
			bool		ok = false;

			for (int j = 0; j < t->n_allowed_roles && !ok; j++)
				ok = strcmp(t->default_roles[i], t->allowed_roles[j]) == 0;
			if (!ok)
			{
				profile_add_error(errs, field_name(prefix, "default_roles"), "allowed",
								  "every default role must be in allowed_roles");
				break;
			}
		}
	}
	return errs->count == before;
}

static void
push_string_array(JsonbParseState **st, const char *key, int n, char **items)
{
	JsonbValue	v;

	profile_push_key(st, key);
	if (n < 0)
	{
		v.type = jbvNull;
		pushJsonbValue(st, WJB_VALUE, &v);
		return;
	}
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
	{
		v.type = jbvString;
		v.val.string.val = items[i];
		v.val.string.len = strlen(items[i]);
		pushJsonbValue(st, WJB_ELEM, &v);
	}
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
}

/* The stored (complete) form of a tenant's settings. */
Jsonb	   *
profile_settings_jsonb(const TenantInfo *t)
{
	JsonbParseState *st = NULL;
	JsonbValue *res;
	char	   *complete[PE_F__COUNT];

	for (int i = 0; i < t->n_complete; i++)
		complete[i] = (char *) pe_fields[t->complete_fields[i]].name;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_bool(&st, "enabled", t->enabled);
	profile_push_text(&st, "required_contract", t->required_contract);
	push_string_array(&st, "complete_fields", t->n_complete, complete);
	profile_push_bool(&st, "incomplete_profiles", t->incomplete_profiles);
	profile_push_text(&st, "wizard_url", t->wizard_url);
	profile_push_bool(&st, "verification", t->verification);
	profile_push_text(&st, "verification_ttl", t->verification_ttl);
	profile_push_text(&st, "idempotency_ttl", t->idempotency_ttl);
	profile_push_text(&st, "verification_url", t->verification_url);
	push_string_array(&st, "default_roles", t->n_default_roles, t->default_roles);
	push_string_array(&st, "allowed_roles", t->n_allowed_roles, t->allowed_roles);
	profile_push_text(&st, "username_uniqueness", t->confusable ? "confusable" : "casefold");
	if (t->phone_types < 0)
		profile_push_null(&st, "phone_types");
	else
	{
		char	   *types[PE_PHONE__COUNT];
		int			n = 0;

		for (int i = 0; i < PE_PHONE__COUNT; i++)
			if (t->phone_types & (1 << i))
				types[n++] = (char *) pe_phone_type_names[i];
		push_string_array(&st, "phone_types", n, types);
	}
	profile_push_key(&st, "rate_limit");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_int(&st, "per_second", t->per_second);
	profile_push_int(&st, "per_minute", t->per_minute);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/*
 * The tenant's wizard URL with every "{id}" replaced by the profile id;
 * NULL if the tenant has none (an incomplete row may outlive the setting,
 * or come from a direct INSERT).
 */
char	   *
profile_wizard_url(const char *template, const pg_uuid_t *id)
{
	StringInfoData buf;
	const char *idtext;
	const char *p = template;
	const char *hit;

	if (template == NULL)
		return NULL;
	idtext = profile_uuid_text(id);
	initStringInfo(&buf);
	while ((hit = strstr(p, "{id}")) != NULL)
	{
		appendBinaryStringInfo(&buf, p, hit - p);
		appendStringInfoString(&buf, idtext);
		p = hit + 4;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}
