/*-------------------------------------------------------------------------
 *
 * src/core/pe_validate.c
 *		Validators and normalisers of the rule core.
 *
 * The input is valid UTF-8 (the glue gets it from jsonb, whose input
 * function checks the encoding), but nothing here relies on that for
 * memory safety: every loop is bounded by the byte length, and a stray
 * byte decodes as U+FFFD.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "pe_tables.h"
#include "pe_validate.h"

/* A rule that could not be checked (memory ran out, ICU failed). */
const PeRule pe_rule_internal = {"internal", "could not be checked"};

#define RULE(name, r, m) static const PeRule name = {r, m}

/* Limits, their messages made from the numbers themselves. */
const PeRule pe_rule_roles_count = {"size", "must name at most " PE_STR(PE_MAX_ROLES) " roles"};
const PeRule pe_rule_items_count = {"size", "must have at most " PE_STR(PE_MAX_ARRAY_ITEMS) " items"};
const PeRule pe_rule_int_items = {"range", "each item must be an integer between 0 and " PE_STR(PE_MAX_INT)};
const PeRule pe_rule_selector_length = {"length", "each item must be at most " PE_STR(PE_MAX_SELECTOR_CHARS) " characters"};
const PeRule pe_rule_attr_depth = {"depth", "must not be nested deeper than " PE_STR(PE_MAX_ATTR_DEPTH) " levels"};
const PeRule pe_rule_attr_size = {"size", "must be at most 64 KiB when serialised"};
const PeRule pe_rule_sdk_events = {"size", "must hold at most " PE_STR(PE_MAX_SDK_EVENTS) " events"};
const PeRule pe_rule_sdk_string = {"length", "must be at most " PE_STR(PE_MAX_SDK_STRING) " characters"};
const PeRule pe_rule_sdk_version = {"length", "must be at most " PE_STR(PE_MAX_SDK_VERSION) " characters"};

/* the message above says 64 KiB */
typedef char pe_attr_size_is_64_kib[PE_MAX_ATTR_BYTES == 64 * 1024 ? 1 : -1];

RULE(r_type_string, "type", "must be a string");
RULE(r_type_bool, "type", "must be a boolean");
RULE(r_type_integer, "type", "must be an integer");
RULE(r_type_array, "type", "must be an array");
RULE(r_type_object, "type", "must be an object or a string holding a JSON object");
RULE(r_type_enabled, "type", "must be a boolean or \"true\"/\"false\"");
RULE(r_type_roles, "type", "must be an array of strings or a comma-separated string");
RULE(r_password_len, "length", "must be 8 to 128 characters");
RULE(r_text_len_1_256, "length", "must be 1 to 256 characters");
RULE(r_text_len_128, "length", "must be at most 128 characters");
RULE(r_text_len_2048, "length", "must be at most 2048 characters");
RULE(r_text_len, "length", "has a length outside the allowed range");
RULE(r_text_control, "format", "must not contain control characters");
RULE(r_language, "format", "must be an ISO 639-1 code of two lower-case letters");
RULE(r_role, "format", "each role must be 1 to 64 of A-Z, a-z, 0-9, _ . : -");
RULE(r_name, "format", "must be 1 to 64 of a-z, 0-9, . _ -");
RULE(r_access_level, "range", "must be 0 or 100");
RULE(r_int_range, "range", "must be between 0 and " PE_STR(PE_MAX_INT));
RULE(r_email_len, "length", "must be at most 254 characters");
RULE(r_email_format, "format", "must be an address of the form local@domain");
RULE(r_email_local, "format", "local part must be a dot-atom of at most 64 characters");
RULE(r_email_domain, "format", "domain must have at least two labels of letters, digits and inner hyphens, each at most 63 characters, the last not all digits");
RULE(r_country, "format", "must be an assigned ISO 3166-1 alpha-2 code");

/* Decode one UTF-8 sequence at s[*i]; advances *i.  Bad bytes: U+FFFD. */
static uint32_t
utf8_next(const char *s, size_t len, size_t *i)
{
	const unsigned char *p = (const unsigned char *) s + *i;
	size_t		left = len - *i;
	uint32_t	c = p[0];
	int			n;

	if (c < 0x80)
	{
		*i += 1;
		return c;
	}
	if ((c & 0xE0) == 0xC0)
		n = 2, c &= 0x1F;
	else if ((c & 0xF0) == 0xE0)
		n = 3, c &= 0x0F;
	else if ((c & 0xF8) == 0xF0)
		n = 4, c &= 0x07;
	else
	{
		*i += 1;
		return 0xFFFD;
	}
	if ((size_t) n > left)
	{
		*i = len;
		return 0xFFFD;
	}
	for (int k = 1; k < n; k++)
	{
		if ((p[k] & 0xC0) != 0x80)
		{
			*i += k;
			return 0xFFFD;
		}
		c = (c << 6) | (p[k] & 0x3F);
	}
	*i += n;
	return c;
}

size_t
pe_utf8_chars(const char *s, size_t len)
{
	size_t		n = 0;

	for (size_t i = 0; i < len;)
	{
		utf8_next(s, len, &i);
		n++;
	}
	return n;
}

static bool
is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

const PeRule *
pe_check_type(PeFieldType type, PeJsonKind kind)
{
	switch (type)
	{
		case PE_T_ENABLED:
			return (kind == PE_JSON_BOOL || kind == PE_JSON_STRING) ? NULL : &r_type_enabled;
		case PE_T_ROLES:
			return (kind == PE_JSON_ARRAY || kind == PE_JSON_STRING) ? NULL : &r_type_roles;
		case PE_T_ATTRIBUTES:
			return (kind == PE_JSON_OBJECT || kind == PE_JSON_STRING) ? NULL : &r_type_object;
		case PE_T_ACCESS_LEVEL:
		case PE_T_INT:
			return kind == PE_JSON_NUMBER ? NULL : &r_type_integer;
		case PE_T_INT_ARRAY:
		case PE_T_TEXT_ARRAY:
			return kind == PE_JSON_ARRAY ? NULL : &r_type_array;
		case PE_T_BOOL:
			return kind == PE_JSON_BOOL ? NULL : &r_type_bool;
		default:
			return kind == PE_JSON_STRING ? NULL : &r_type_string;
	}
}

const PeRule *
pe_check_password(const char *s, size_t len)
{
	size_t		n = pe_utf8_chars(s, len);

	return (n < 8 || n > 128) ? &r_password_len : NULL;
}

const PeRule *
pe_check_text(const PeFieldDef *def, const char *s, size_t len)
{
	size_t		n = 0;

	for (size_t i = 0; i < len;)
	{
		uint32_t	c = utf8_next(s, len, &i);

		if (!def->control_ok && is_control(c))
			return &r_text_control;
		n++;
	}
	if (n >= (size_t) def->min_chars && n <= (size_t) def->max_chars)
		return NULL;
	if (def->min_chars == 1 && def->max_chars == 256)
		return &r_text_len_1_256;
	if (def->min_chars == 0 && def->max_chars == 128)
		return &r_text_len_128;
	if (def->min_chars == 0 && def->max_chars == 2048)
		return &r_text_len_2048;
	return &r_text_len;
}

const PeRule *
pe_check_language(const char *s, size_t len)
{
	char		code[3];

	if (len != 2 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z')
		return &r_language;
	code[0] = s[0];
	code[1] = s[1];
	code[2] = '\0';
	return pe_is_language(code) ? NULL : &r_language;
}

const PeRule *
pe_check_role(const char *s, size_t len)
{
	if (len < 1 || len > 64)
		return &r_role;
	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
			  c == '-'))
			return &r_role;
	}
	return NULL;
}

const PeRule *
pe_check_name(const char *s, size_t len)
{
	if (len < 1 || len > 64)
		return &r_name;
	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-'))
			return &r_name;
	}
	return NULL;
}

const PeRule *
pe_check_access_level(int64_t v)
{
	return (v == 0 || v == 100) ? NULL : &r_access_level;
}

const PeRule *
pe_check_int(int64_t v)
{
	return (v >= 0 && v <= PE_MAX_INT) ? NULL : &r_int_range;
}

bool
pe_parse_integer(const char *s, size_t len, int64_t *out)
{
	size_t		i = 0;
	bool		neg = false;
	uint64_t	v = 0;

	if (len > 0 && s[0] == '-')
		neg = true, i = 1;
	if (i >= len || s[i] < '0' || s[i] > '9')
		return false;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
	{
		if (v > (UINT64_C(9223372036854775808) - (uint64_t) (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (i < len)
	{
		/* only a fraction of zeros may follow: 5.0, 5.00 */
		if (s[i] != '.' || i + 1 >= len)
			return false;
		for (i++; i < len; i++)
			if (s[i] != '0')
				return false;
	}
	if (!neg && v > (uint64_t) INT64_MAX)
		return false;
	*out = neg ? (int64_t) (0 - v) : (int64_t) v;
	return true;
}

bool
pe_parse_bool_text(const char *s, size_t len, bool *out)
{
	if (len == 4 && strncasecmp(s, "true", 4) == 0)
		*out = true;
	else if (len == 5 && strncasecmp(s, "false", 5) == 0)
		*out = false;
	else
		return false;
	return true;
}

bool
pe_parse_status(const char *s, size_t len, bool *out)
{
	if (len == 1 && s[0] == 'E')
		*out = true;
	else if (len == 1 && s[0] == 'D')
		*out = false;
	else
		return false;
	return true;
}

static bool
is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

const PeRule *
pe_normalize_email(const char *s, size_t len, char *out)
{
	size_t		at = len,
				label = 0,
				labels = 0;
	bool		all_digits = true;

	if (len > 254)
		return &r_email_len;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '@')
		{
			if (at != len)
				return &r_email_format;
			at = i;
		}
	}
	if (at == len || at == 0 || at == len - 1)
		return &r_email_format;

	/* local part: dot-atom, at most 64 characters */
	if (at > 64 || s[0] == '.' || s[at - 1] == '.')
		return &r_email_local;
	for (size_t i = 0; i < at; i++)
	{
		if (s[i] == '.')
		{
			if (s[i + 1] == '.')
				return &r_email_local;
		}
		else if (!is_atext(s[i]))
			return &r_email_local;
		out[i] = s[i];
	}
	out[at] = '@';

	/* domain: labels of letters, digits and inner hyphens */
	for (size_t i = at + 1; i <= len; i++)
	{
		char		c = (i < len) ? s[i] : '.';

		if (c == '.')
		{
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return &r_email_domain;
			labels++;
			if (i < len)
			{
				label = 0;
				all_digits = true;
			}
		}
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '-')
		{
			if (c == '-' && label == 0)
				return &r_email_domain;
			if (!(c >= '0' && c <= '9'))
				all_digits = false;
			label++;
		}
		else
			return &r_email_domain;
		if (i < len)
			out[i] = (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c;
	}
	if (labels < 2 || all_digits)
		return &r_email_domain;
	out[len] = '\0';
	return NULL;
}

static int
cmp2(const void *a, const void *b)
{
	return memcmp(a, b, 2);
}

bool
pe_is_country(const char *code2)
{
	return bsearch(code2, pe_iso3166_codes, (size_t) pe_iso3166_count,
				   sizeof(pe_iso3166_codes[0]), cmp2) != NULL;
}

bool
pe_is_language(const char *code2)
{
	return bsearch(code2, pe_iso639_codes, (size_t) pe_iso639_count,
				   sizeof(pe_iso639_codes[0]), cmp2) != NULL;
}

const PeRule *
pe_normalize_country(const char *s, size_t len, char *out)
{
	if (len != 2)
		return &r_country;
	for (int i = 0; i < 2; i++)
	{
		char		c = s[i];

		if (c >= 'a' && c <= 'z')
			c = (char) (c - ('a' - 'A'));
		if (c < 'A' || c > 'Z')
			return &r_country;
		out[i] = c;
	}
	out[2] = '\0';
	return pe_is_country(out) ? NULL : &r_country;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
pe_parse_uuid(const char *s, size_t len, uint8_t *out)
{
	size_t		i = 0;

	if (len != 36)
		return false;
	for (int b = 0; b < 16; b++)
	{
		int			hi,
					lo;

		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
			i++;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[b] = (uint8_t) (hi << 4 | lo);
		i += 2;
	}
	return true;
}

/* Read exactly n digits at s[*i]. */
static bool
digits(const char *s, size_t len, size_t *i, int n, int *out)
{
	int			v = 0;

	if (*i + (size_t) n > len)
		return false;
	for (int k = 0; k < n; k++)
	{
		char		c = s[*i + k];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*i += n;
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool
pe_parse_rfc3339(const char *s, size_t len, int64_t *unix_us)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t		i = 0;
	int			y,
				mo,
				d,
				h,
				mi,
				sec,
				oh = 0,
				om = 0;
	int64_t		frac = 0;
	int			sign = 0;

	/* full-date "T" partial-time: seconds required */
	if (!digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
		!digits(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
		!digits(s, len, &i, 2, &d) || i >= len || (s[i] != 'T' && s[i] != 't') ||
		(++i, !digits(s, len, &i, 2, &h)) || i >= len || s[i++] != ':' ||
		!digits(s, len, &i, 2, &mi) || i >= len || s[i++] != ':' ||
		!digits(s, len, &i, 2, &sec))
		return false;
	if (i < len && s[i] == '.')
	{
		int64_t		scale = 100000;
		size_t		start = ++i;

		/* digits past microseconds are read and dropped */
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		{
			frac += (s[i] - '0') * scale;
			scale /= 10;
		}
		if (i == start)
			return false;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
		(mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) ||
		h > 23 || mi > 59 || sec > 60)
		return false;

	/* time-offset: "Z" or +HH:MM / -HH:MM, required */
	if (i >= len)
		return false;
	if (s[i] == 'Z' || s[i] == 'z')
		i++;
	else if (s[i] == '+' || s[i] == '-')
	{
		sign = s[i++] == '-' ? -1 : 1;
		if (!digits(s, len, &i, 2, &oh) || i >= len || s[i++] != ':' ||
			!digits(s, len, &i, 2, &om) || oh > 23 || om > 59)
			return false;
	}
	else
		return false;
	if (i != len)
		return false;

	/* a leap second is the last second of a UTC day */
	if (sec == 60 &&
		((h * 60 + mi - sign * (oh * 60 + om)) % 1440 + 1440) % 1440 != 23 * 60 + 59)
		return false;

	*unix_us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
				(int64_t) sign * (oh * 3600 + om * 60)) * 1000000 + frac;
	return true;
}

static int
span_cmp(const void *a, const void *b)
{
	const PeSpan *x = a;
	const PeSpan *y = b;
	int			c = memcmp(x->s, y->s, (size_t) (x->len < y->len ? x->len : y->len));

	if (c == 0)
		c = (x->len > y->len) - (x->len < y->len);
	if (c == 0)
		c = (x->index > y->index) - (x->index < y->index);
	return c;
}

int
pe_dedupe(const char **s, int *len, int n, PeSpan *scratch)
{
	int			kept = 0;

	if (n < 2)
		return n;
	for (int i = 0; i < n; i++)
	{
		scratch[i].s = s[i];
		scratch[i].len = len[i];
		scratch[i].index = i;
	}
	qsort(scratch, (size_t) n, sizeof(PeSpan), span_cmp);
	/* equal strings sort together, the first occurrence first: mark the rest */
	for (int i = 1; i < n; i++)
		if (scratch[i].len == scratch[i - 1].len &&
			memcmp(scratch[i].s, scratch[i - 1].s, (size_t) scratch[i].len) == 0)
			len[scratch[i].index] = -1;
	for (int i = 0; i < n; i++)
	{
		if (len[i] < 0)
			continue;
		s[kept] = s[i];
		len[kept] = len[i];
		kept++;
	}
	return kept;
}
