/*-------------------------------------------------------------------------
 *
 * src/core/pe_phone.c
 *		Phone numbers judged as libphonenumber judges a number written in
 *		international form.
 *
 * This is the part of libphonenumber's PhoneNumberUtil that a number in
 * international form needs -- Parse(number, "ZZ") (calling code, national
 * prefix with its transform rule, length of the national number),
 * GetRegionCodeForNumber, GetNumberType, IsValidNumber and Format(E164)
 * -- over libphonenumber's own metadata, generated into static tables by
 * test/tools/gen_phone_tables.py from Debian's python3-phonenumbers.  The
 * unit test checks it against that library on every example number of
 * every region and type, their trunk-prefix and 00 forms, and numbers of
 * a possible length that are not valid (test/unit/phone_cases.tsv).
 *
 * Why not link libphonenumber itself (C++)?  Measured on the same cases:
 * its Parse + IsValidNumber cost 13 to 16 us a call and about 9 MB of heap
 * per backend (with ICU, protobuf and abseil loaded into the server); this
 * costs about 0.2 us and under 1 MB, gives the same answers, and keeps the
 * core plain C.
 *
 * Matching.  National-number and leading-digits patterns are DFAs over
 * the digits, generated at build time: a walk over at most 17 digits, no
 * memory.  The national prefixes for parsing (a few dozen) need capture
 * groups for their transform rules; they are POSIX regular expressions,
 * compiled on first use and kept for the life of the process (a bounded
 * cache: one per pattern, never per call).
 *
 *-------------------------------------------------------------------------
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "pe_fields.h"
#include "pe_phone.h"
#include "pe_phone_tables.h"
#include "pe_tables.h"

#define MIN_LENGTH_FOR_NSN		2
#define MAX_LENGTH_FOR_NSN		17
#define MAX_LENGTH_COUNTRY_CODE 3
#define MAX_GROUPS				32
#define NSN_BUF					64

/* compiled national prefixes: NULL not yet, &failed if regcomp failed */
static regex_t * compiled[PE_PH_NPATTERNS];
static regex_t failed;

/* Set when a regular expression could not be compiled (out of memory). */
static bool internal_error;

static const regex_t *
national_prefix_re(int id)
{
	regex_t    *re = compiled[id];

	if (re)
		return re == &failed ? NULL : re;
	re = malloc(sizeof(regex_t));
	if (re == NULL)
		return NULL;			/* out of memory: try again next time */
	if (regcomp(re, pe_ph_pool + pe_ph_patterns[id].ere, REG_EXTENDED) != 0)
	{
		free(re);
		compiled[id] = &failed;
		return NULL;
	}
	compiled[id] = re;
	return re;
}

/*
 * Does pattern id match s (NUL-terminated digits)?  A full pattern must
 * match all of s, a prefix pattern its beginning.
 */
static bool
pattern_matches(int id, const char *s)
{
	const uint8_t *t = pe_ph_dfa + (size_t) pe_ph_patterns[id].dfa * 11;
	unsigned	st = 0;

	if (pe_ph_patterns[id].dfa == PE_PH_NONE)
	{
		/* not generated as a DFA: only national prefixes are */
		internal_error = true;
		return false;
	}
	if (pe_ph_patterns[id].kind == PE_PH_PREFIX)
	{
		for (;; s++)
		{
			if (t[st * 11 + 10])
				return true;
			if (*s < '0' || *s > '9')
				return false;
			st = t[st * 11 + (unsigned) (*s - '0')];
			if (st == 0xff)
				return false;
		}
	}
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9')
			return false;
		st = t[st * 11 + (unsigned) (*s - '0')];
		if (st == 0xff)
			return false;
	}
	return t[st * 11 + 10] != 0;
}

/* MatchNationalNumber: false if the description has no pattern */
static bool
matches_national(const PePhDesc *d, const char *nsn)
{
	return d->present && d->pattern >= 0 && pattern_matches(d->pattern, nsn);
}

/* IsNumberMatchingDesc */
static bool
matches_desc(const PePhRegion *r, int which, const char *nsn, size_t len)
{
	const PePhDesc *d = &r->desc[which];

	if (!d->present)
		return false;
	if ((d->lengths & 1u) && !(len < 32 && ((d->lengths >> len) & 1u)))
		return false;
	return matches_national(d, nsn);
}

/* GetNumberTypeHelper */
static int
number_type(const PePhRegion *r, const char *nsn, size_t len)
{
	if (!matches_desc(r, PE_PH_GENERAL, nsn, len))
		return PE_PHONE_UNKNOWN;
	if (matches_desc(r, PE_PH_PREMIUM_RATE, nsn, len))
		return PE_PHONE_PREMIUM_RATE;
	if (matches_desc(r, PE_PH_TOLL_FREE, nsn, len))
		return PE_PHONE_TOLL_FREE;
	if (matches_desc(r, PE_PH_SHARED_COST, nsn, len))
		return PE_PHONE_SHARED_COST;
	if (matches_desc(r, PE_PH_VOIP, nsn, len))
		return PE_PHONE_VOIP;
	if (matches_desc(r, PE_PH_PERSONAL_NUMBER, nsn, len))
		return PE_PHONE_PERSONAL_NUMBER;
	if (matches_desc(r, PE_PH_PAGER, nsn, len))
		return PE_PHONE_PAGER;
	if (matches_desc(r, PE_PH_UAN, nsn, len))
		return PE_PHONE_UAN;
	if (matches_desc(r, PE_PH_VOICEMAIL, nsn, len))
		return PE_PHONE_VOICEMAIL;
	if (matches_desc(r, PE_PH_FIXED_LINE, nsn, len))
	{
		if (r->same_mobile_fixed || matches_desc(r, PE_PH_MOBILE, nsn, len))
			return PE_PHONE_FIXED_LINE_OR_MOBILE;
		return PE_PHONE_FIXED_LINE;
	}
	if (!r->same_mobile_fixed && matches_desc(r, PE_PH_MOBILE, nsn, len))
		return PE_PHONE_MOBILE;
	return PE_PHONE_UNKNOWN;
}

typedef enum LengthVerdict
{
	LENGTH_POSSIBLE,
	LENGTH_LOCAL_ONLY,
	LENGTH_TOO_SHORT,
	LENGTH_TOO_LONG,
	LENGTH_INVALID
} LengthVerdict;

/* TestNumberLength for the general description */
static LengthVerdict
test_length(const PePhRegion *r, size_t len)
{
	uint32_t	lengths = r->desc[PE_PH_GENERAL].lengths >> 1;	/* bit k-1: k */
	uint32_t	local = r->desc[PE_PH_GENERAL].local_lengths >> 1;
	size_t		shortest,
				longest;

	if (lengths == 0)
		return LENGTH_INVALID;
	if (len >= 1 && len <= 31 && ((local >> (len - 1)) & 1u))
		return LENGTH_LOCAL_ONLY;
	shortest = (size_t) __builtin_ctz(lengths) + 1;
	longest = 32 - (size_t) __builtin_clz(lengths);
	if (len == shortest)
		return LENGTH_POSSIBLE;
	if (len < shortest)
		return LENGTH_TOO_SHORT;
	if (len > longest)
		return LENGTH_TOO_LONG;
	return ((lengths >> (len - 1)) & 1u) ? LENGTH_POSSIBLE : LENGTH_INVALID;
}

/*
 * MaybeStripNationalPrefixAndCarrierCode (the carrier code is dropped):
 * nn, NUL-terminated digits in a buffer of NSN_BUF bytes, loses its
 * national prefix, or has it rewritten by the transform rule.
 */
static void
strip_national_prefix(const PePhRegion *r, char *nn)
{
	const		regex_t *re;
	regmatch_t	m[MAX_GROUPS];
	size_t		ngroups,
				end,
				out = 0,
				rest;
	const PePhDesc *general = &r->desc[PE_PH_GENERAL];
	bool		viable;
	char		tmp[NSN_BUF];
	int			last = r->last_group;

	if (nn[0] == '\0' || r->national_prefix < 0)
		return;
	re = national_prefix_re(r->national_prefix);
	if (re == NULL)
	{
		internal_error = true;
		return;
	}
	ngroups = re->re_nsub + 1 < MAX_GROUPS ? re->re_nsub + 1 : MAX_GROUPS;
	if (regexec(re, nn, ngroups, m, 0) != 0)
		return;
	viable = matches_national(general, nn);
	end = (size_t) m[0].rm_eo;
	if (r->transform == PE_PH_NONE || last == 0 || last >= (int) ngroups ||
		m[last].rm_so < 0)
	{
		/* no transform rule: drop the prefix, if what is left still fits */
		if (viable && !matches_national(general, nn + end))
			return;
		memmove(nn, nn + end, strlen(nn + end) + 1);
		return;
	}
	/* the rule (bytes below 32 name groups), then the rest of the number */
	for (const unsigned char *p = (const unsigned char *) pe_ph_pool + r->transform; *p; p++)
	{
		if (*p < 32)
		{
			int			g = *p;

			if (g < (int) ngroups && m[g].rm_so >= 0)
			{
				size_t		glen = (size_t) (m[g].rm_eo - m[g].rm_so);

				if (out + glen >= sizeof(tmp))
					return;
				memcpy(tmp + out, nn + m[g].rm_so, glen);
				out += glen;
			}
		}
		else
		{
			if (out + 1 >= sizeof(tmp))
				return;
			tmp[out++] = (char) *p;
		}
	}
	rest = strlen(nn + end);
	if (out + rest >= sizeof(tmp))
		return;
	memcpy(tmp + out, nn + end, rest + 1);
	if (viable && !matches_national(general, tmp))
		return;
	memcpy(nn, tmp, out + rest + 1);
}

/*
 * The digits of s after a leading + or 00, separators dropped, into digits
 * (NUL-terminated); their number, or -1 if s is not of that form.
 */
static int
international_digits(const char *s, size_t len, char *digits, size_t cap)
{
	size_t		n = 0,
				i = 0;
	bool		plus = false;

	for (; i < len; i++)
	{
		char		c = s[i];

		if (strchr(" -./()", c) != NULL && c != '\0')
			continue;
		if (c == '+' && !plus && n == 0)
		{
			plus = true;
			continue;
		}
		if (c < '0' || c > '9')
			return -1;
		if (n + 1 >= cap)
			return -2;
		digits[n++] = c;
	}
	digits[n] = '\0';
	if (!plus)
	{
		/* 00 as the international prefix */
		if (n < 2 || digits[0] != '0' || digits[1] != '0')
			return -1;
		memmove(digits, digits + 2, n - 1);
		n -= 2;
	}
	return (int) n;
}

PePhoneStatus
pe_phone_parse(const char *s, size_t len, PePhone *out)
{
	char		full[PE_PHONE_INPUT_MAX + 1];
	char		nsn[NSN_BUF],
				stripped[NSN_BUF];
	int			n,
				index = -1,
				code = 0,
				type = PE_PHONE_UNKNOWN;
	size_t		code_len = 0,
				nlen,
				slen;
	const PePhCode *c;
	const PePhRegion *main_region,
			   *region = NULL;

	memset(out, 0, sizeof(*out));
	out->type = PE_PHONE_UNKNOWN;
	if (len > PE_PHONE_INPUT_MAX)
		return PE_PHONE_BAD_LENGTH;
	n = international_digits(s, len, full, sizeof(full));
	if (n == -1)
		return PE_PHONE_BAD_FORMAT;
	if (n < 0 || n <= MIN_LENGTH_FOR_NSN)
		return PE_PHONE_BAD_LENGTH;
	internal_error = false;

	/* the calling code: they are prefix-free */
	if (full[0] == '0')
		return PE_PHONE_BAD_CODE;
	for (size_t i = 1; i <= MAX_LENGTH_COUNTRY_CODE && i <= (size_t) n; i++)
	{
		code = code * 10 + (full[i - 1] - '0');
		if (pe_ph_code_index[code] >= 0)
		{
			index = pe_ph_code_index[code];
			code_len = i;
			break;
		}
	}
	if (index < 0)
		return PE_PHONE_BAD_CODE;
	nlen = (size_t) n - code_len;
	if (nlen < MIN_LENGTH_FOR_NSN || nlen >= NSN_BUF)
		return PE_PHONE_BAD_LENGTH;
	c = &pe_ph_codes[index];
	main_region = &pe_ph_regions[pe_ph_code_regions[c->first]];

	/* a national prefix goes if what is left has a possible length */
	memcpy(nsn, full + code_len, nlen + 1);
	memcpy(stripped, nsn, nlen + 1);
	strip_national_prefix(main_region, stripped);
	slen = strlen(stripped);
	switch (test_length(main_region, slen))
	{
		case LENGTH_TOO_SHORT:
		case LENGTH_LOCAL_ONLY:
		case LENGTH_INVALID:
			break;
		default:
			memcpy(nsn, stripped, slen + 1);
			nlen = slen;
	}
	if (internal_error)
		return PE_PHONE_INTERNAL;
	if (nlen < MIN_LENGTH_FOR_NSN || nlen > MAX_LENGTH_FOR_NSN)
		return PE_PHONE_BAD_LENGTH;

	/* Format(E164): what the number is, valid or not */
	out->e164[0] = '+';
	memcpy(out->e164 + 1, full, code_len);
	memcpy(out->e164 + 1 + code_len, nsn, nlen + 1);

	/* GetRegionCodeForNumber, with the type IsValidNumber needs */
	if (c->n == 1)
	{
		region = main_region;
		type = number_type(region, nsn, nlen);
	}
	else
		for (unsigned i = 0; i < c->n; i++)
		{
			const PePhRegion *r = &pe_ph_regions[pe_ph_code_regions[c->first + i]];

			if (r->leading_digits >= 0)
			{
				if (pattern_matches(r->leading_digits, nsn))
				{
					region = r;
					type = number_type(r, nsn, nlen);
					break;
				}
			}
			else if ((type = number_type(r, nsn, nlen)) != PE_PHONE_UNKNOWN)
			{
				region = r;
				break;
			}
		}
	if (internal_error)
		return PE_PHONE_INTERNAL;
	if (region == NULL || type == PE_PHONE_UNKNOWN)
		return PE_PHONE_INVALID;
	memcpy(out->region, region->id, sizeof(out->region));
	out->type = type;
	return PE_PHONE_OK;
}

static const PeRule r_format = {"format", "must be digits after a leading + or 00, with only spaces, - . / ( ) as separators"};
static const PeRule r_code = {"calling_code", "country calling code is not assigned"};
static const PeRule r_length = {"length", "has too few or too many digits for a phone number"};
static const PeRule r_invalid = {"invalid", "is not a valid number for any region of its country calling code"};

const PeRule *
pe_check_phone(const char *s, size_t len, PePhone *out)
{
	switch (pe_phone_parse(s, len, out))
	{
		case PE_PHONE_OK:
			return NULL;
		case PE_PHONE_INVALID:
			return &r_invalid;
		case PE_PHONE_BAD_FORMAT:
			return &r_format;
		case PE_PHONE_BAD_CODE:
			return &r_code;
		case PE_PHONE_BAD_LENGTH:
			return &r_length;
		case PE_PHONE_INTERNAL:
			break;
	}
	return &pe_rule_internal;
}

const char *
pe_phone_country(const PePhone *phone)
{
	if (phone->region[0] == '\0' || phone->region[2] != '\0' ||
		!pe_is_country(phone->region))
		return NULL;
	return phone->region;
}
