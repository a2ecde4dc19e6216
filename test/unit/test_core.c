/*-------------------------------------------------------------------------
 *
 * test/unit/test_core.c
 *		Unit tests of the rule core (src/core), without PostgreSQL.
 *
 * Prints one TAP line per check ("ok N - ..." / "not ok N - ...") and a
 * plan; exits non-zero if any check failed.  Built and run by
 * "make unitcheck", which "make installcheck" runs first.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "pe_errors.h"
#include "pe_fields.h"
#include "pe_identity.h"
#include "pe_json.h"
#include "pe_phone.h"
#include "pe_tables.h"
#include "pe_url.h"
#include "pe_validate.h"

static int	n_run = 0;
static int	n_failed = 0;

static void
check(int cond, const char *what, const char *arg)
{
	n_run++;
	if (!cond)
		n_failed++;
	printf("%sok %d - %s%s%s%s\n", cond ? "" : "not ", n_run, what,
		   arg ? " [" : "", arg ? arg : "", arg ? "]" : "");
}

#define S(x) (x), strlen(x)

static void
test_key_table(void)
{
	extern int	pe_key_count(void);
	extern const char *pe_key_at(int i, int *field, bool *alias);
	int			sorted = 1,
				consistent = 1;

	for (int i = 0; i < pe_key_count(); i++)
	{
		int			f;
		bool		alias;
		const char *k = pe_key_at(i, &f, &alias);
		const char *expect = alias ? pe_fields[f].alias : pe_fields[f].name;

		if (i > 0)
		{
			int			pf;
			bool		pa;

			if (strcmp(pe_key_at(i - 1, &pf, &pa), k) >= 0)
				sorted = 0;
		}
		if (expect == NULL || strcmp(expect, k) != 0)
			consistent = 0;
	}
	check(sorted, "key table is sorted", NULL);
	check(consistent, "key table matches field table", NULL);
	/* every name and alias can be found */
	for (int f = 0; f < PE_F__COUNT; f++)
	{
		bool		alias;

		check(pe_field_lookup(S(pe_fields[f].name), &alias) == f && !alias,
			  "lookup canonical", pe_fields[f].name);
		if (pe_fields[f].alias)
			check(pe_field_lookup(S(pe_fields[f].alias), &alias) == f && alias,
				  "lookup alias", pe_fields[f].alias);
	}
	{
		bool		alias;

		check(pe_field_lookup(S("nickname"), &alias) == -1, "unknown key", "nickname");
		check(pe_field_lookup(S("user"), &alias) == -1, "prefix is not a key", "user");
		check(pe_field_lookup(S("usernames"), &alias) == -1, "longer is not a key", "usernames");
	}
	check(pe_field_by_name(S("email")) == PE_F_EMAIL, "field by name", "email");
	check(pe_field_by_name(S("login")) == -1, "alias is not a canonical name", "login");
	check(pe_field_by_name(S("tenantName")) == -1, "request key is not a field", "tenantName");
	check(pe_setting_lookup(S("rate_limit")) == PE_S_RATE_LIMIT, "setting lookup", "rate_limit");
	check(pe_setting_lookup(S("rate")) == -1, "unknown setting", "rate");
}

/* a username's verdict, and its key when it passes */
static const char *
uname(const char *s, PeUsername *u)
{
	const PeRule *r = pe_username_check(s, strlen(s), u);

	return r ? r->rule : "ok";
}

static int
same_key(const char *a, const char *b)
{
	PeUsername	ua,
				ub;

	return pe_username_check(a, strlen(a), &ua) == NULL &&
		pe_username_check(b, strlen(b), &ub) == NULL &&
		strcmp(ua.key, ub.key) == 0;
}

static void
test_username(void)
{
	const char *good[] = {"john.doe", "abcde", "J\xc3\xb6hn_D\xc5\x93", "\xe7\x94\xa8\xe6\x88\xb7\xe5\x90\x8d\xe5\xad\x97\xe4\xba\x94", "tanaka\xe7\x94\xb0\xe4\xb8\xad\xe3\x81\xb2\xe3\x82\x8d\xe3\x81\x97",
	"user-1@home", "\xce\x9f\xce\x94\xce\xa5\xce\xa3\xce\xa3\xce\x95\xce\xa5\xce\xa3", "\xc4\xb0stanbul", "\xef\xac\x81nance", "\xe2\x82\xacuro$ign", NULL};

	/* whitespace, controls, format characters, default-ignorables, unassigned */
	const char *bad_chars[] = {"john doe", "john\tdoe", "john\x7f" "doe", "john\xc2\xa0" "doe",
		"john\xe3\x80\x80" "doe", "mallory\xe2\x80\x8b_1", "mallory\xc2\xad_1",
		"\xef\xbb\xbfmallory_1", "mallory\xe2\x81\xa0_1", "mallory\xe2\x80\xae_1",
		"mallory\xe2\x80\x8d_1", "mallory\xe2\x80\x8c_1", "user\xef\xb8\x8f" "1",
		"user\xe3\x85\xa4" "1", "user\xcd\x8f" "1", "user\xee\x80\x80" "1", "user\xcd\xb8" "1",
	"user\xe2\x80\xa8" "1", NULL};

	/* scripts mixed beyond moderately restrictive */
	const char *mixed[] = {"p\xd0\xb0ypal_x", "\xd1\x80\xd0\xb0\xd1\x83\xd1\x80\xd0\xb0_x", "abc\xce\xb1\xce\xb2\xce\xb3", "mixed_\xe3\x81\xb2\xe3\x82\x89\xe3\x81\x8c\xe3\x81\xaa_\xed\x95\x9c\xea\xb5\xad", NULL};
	PeUsername	u;
	char		long129[130];

	for (int i = 0; good[i]; i++)
		check(strcmp(uname(good[i], &u), "ok") == 0, "username accepted", good[i]);
	for (int i = 0; bad_chars[i]; i++)
		check(strcmp(uname(bad_chars[i], &u), "format") == 0, "username rejected: format", bad_chars[i]);
	for (int i = 0; mixed[i]; i++)
		check(strcmp(uname(mixed[i], &u), "mixed_script") == 0, "username rejected: mixed_script", mixed[i]);
	check(strcmp(uname("abcd", &u), "length") == 0, "4 characters rejected", "abcd");
	check(strcmp(uname("", &u), "length") == 0, "empty rejected", NULL);
	check(strcmp(uname("\xff\xfe" "abcde", &u), "format") == 0, "bad UTF-8 rejected", NULL);
	memset(long129, 'a', 129);
	long129[129] = '\0';
	check(pe_username_check(long129, 128, &u) == NULL, "username of 128 accepted", NULL);
	check(pe_username_check(long129, 129, &u) != NULL, "username of 129 rejected", NULL);
	/* five two-byte characters are five characters, not ten bytes */
	check(strcmp(uname("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &u), "ok") == 0, "username counts characters", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	/* NFD input is stored in NFC: 4 code points then, e + U+0301 counts once */
	check(strcmp(uname("jose\xcc\x81", &u), "length") == 0, "NFD counted in NFC", "jos\xc3\xa9");
	check(strcmp(uname("jose\xcc\x81_1", &u), "ok") == 0 && strcmp(u.nfc, "jos\xc3\xa9_1") == 0,
		  "stored in NFC", NULL);
	/* one key for what looks and means the same */
	check(same_key("ADMIN_1", "admin_1"), "key: case", "ADMIN_1 = admin_1");
	check(same_key("STRASSE_1", "stra\xc3\x9f" "e_1"), "key: \xc3\x9f folds to ss", NULL);
	check(same_key("jos\xc3\xa9_1", "jose\xcc\x81_1"), "key: NFC = NFD", NULL);
	check(same_key("\xef\xbc\xa1\xef\xbc\xac\xef\xbc\xa9\xef\xbc\xa3\xef\xbc\xa5" "1", "alice1"),
		  "key: full-width = ASCII", NULL);
	check(same_key("\xce\x9f\xce\x94\xce\xa5\xce\xa3\xce\xa3\xce\x95\xce\xa5\xce\xa3", "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x85\xcf\x82") && same_key("\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x85\xcf\x82", "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x85\xcf\x83"),
		  "key: final sigma", NULL);
	check(same_key("\xef\xac\x81nance", "finance"), "key: ligature", NULL);
	check(same_key("\xc4\xb0STANBUL", "i\xcc\x87stanbul"), "key: dotted capital I", NULL);
	check(!same_key("ISTANBUL", "\xc4\xb1stanbul"), "key: dotless i stays apart (no Turkish folding)", NULL);
	check(!same_key("admin_1", "admin_2"), "key: different names", NULL);
	/* confusables by skeleton */
	{
		char		s1[20000],
					s2[20000];
		PeUsername	a,
					b;

		check(pe_username_check(S("paypa1"), &a) == NULL &&
			  pe_username_check(S("\xd1\x80\xd0\xb0\xd1\x83\xd1\x80\xd0\xb0" "1"), &b) == NULL &&
			  pe_username_skeleton(a.key, strlen(a.key), s1, sizeof(s1)) >= 0 &&
			  pe_username_skeleton(b.key, strlen(b.key), s2, sizeof(s2)) >= 0 &&
			  strcmp(s1, s2) == 0, "skeleton: Cyrillic rayra1 = paypa1", NULL);
	}
	{
		char		key[64];

		check(pe_username_key(S("STRASSE"), key, sizeof(key)) == 7 && strcmp(key, "strasse") == 0,
			  "key of stored text", NULL);
		pe_email_key(S("John.Doe@Example.COM"), key);
		check(strcmp(key, "john.doe@example.com") == 0, "email key: ASCII lower case", NULL);
	}
}

static void
test_password(void)
{
	check(pe_check_password(S("passw0rd")) == NULL, "password of 8", NULL);
	check(pe_check_password(S("passw0r")) != NULL, "password of 7", NULL);
	check(strcmp(pe_check_password(S("short"))->rule, "length") == 0, "password rule is length", NULL);
}

static void
test_email(void)
{
	const char *good[][2] = {
		{"john.doe@example.com", "john.doe@example.com"},
		{"John.Doe@EXAMPLE.Com", "John.Doe@example.com"},
		{"a+b!#$%&'*/=?^_`{|}~-@x-y.example.org", "a+b!#$%&'*/=?^_`{|}~-@x-y.example.org"},
		{"x@a.b1", "x@a.b1"},
		{NULL, NULL}
	};
	const char *bad[] = {
		"plainaddress", "@example.com", "john@", "john@@example.com",
		"john@example", ".john@example.com", "john.@example.com",
		"jo..hn@example.com", "\"john\"@example.com", "john(c)@example.com",
		"john@-example.com", "john@example-.com", "john@exa_mple.com",
		"john@example..com", "john@example.123", "john doe@example.com",
		"j\xc3\xb6hn@example.com", "john@example.com.", "john@.example.com", NULL
	};
	char		out[300];
	char		buf[300];

	for (int i = 0; good[i][0]; i++)
	{
		const PeRule *r = pe_normalize_email(S(good[i][0]), out);

		check(r == NULL && strcmp(out, good[i][1]) == 0, "email normalised", good[i][0]);
	}
	for (int i = 0; bad[i]; i++)
		check(pe_normalize_email(S(bad[i]), out) != NULL, "email rejected", bad[i]);

	/* local part of 64 accepted, 65 rejected */
	memset(buf, 'a', 65);
	strcpy(buf + 64, "@example.com");
	check(pe_normalize_email(S(buf), out) == NULL, "local part of 64", NULL);
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@example.com");
	check(pe_normalize_email(S(buf), out) != NULL, "local part of 65", NULL);
	/* label of 63 accepted, 64 rejected */
	strcpy(buf, "a@");
	memset(buf + 2, 'b', 64);
	strcpy(buf + 65, ".com");
	check(pe_normalize_email(S(buf), out) == NULL, "label of 63", NULL);
	strcpy(buf, "a@");
	memset(buf + 2, 'b', 64);
	strcpy(buf + 66, ".com");
	check(pe_normalize_email(S(buf), out) != NULL, "label of 64", NULL);
	/* total over 254 rejected */
	strcpy(buf, "a@");
	for (int i = 0; i < 5; i++)
	{
		memset(buf + 2 + i * 51, 'c', 50);
		buf[2 + i * 51 + 50] = '.';
	}
	strcpy(buf + 2 + 5 * 51, "com");
	check(strlen(buf) > 254 && pe_normalize_email(S(buf), out) != NULL,
		  "email over 254 rejected", NULL);
}

static void
test_phone(void)
{
	const char *good[][4] = {
		{"+49658245684", "+49658245684", "DE", "fixed_line"},
		{"0049 658 245684", "+49658245684", "DE", "fixed_line"},
		{"+49 (658) 245-684", "+49658245684", "DE", "fixed_line"},
		{"+1 415.555.2671", "+14155552671", "US", "fixed_line_or_mobile"},
		{"+1 416 555 0199", "+14165550199", "CA", "fixed_line_or_mobile"},
		{"+44 20 7946 0958", "+442079460958", "GB", "fixed_line"},
		{"+44 (0)20 7946 0958", "+442079460958", "GB", "fixed_line"},
		{"+44 1534 456789", "+441534456789", "JE", "fixed_line"},
		{"+7 912 345 67 89", "+79123456789", "RU", "mobile"},
		{"+7 701 123 4567", "+77011234567", "KZ", "mobile"},
		{"+33 6 12 34 56 78", "+33612345678", "FR", "mobile"},
		{"+381/64/1234567", "+381641234567", "RS", "mobile"},
		{"+800 1234 5678", "+80012345678", NULL, "toll_free"},
		{"+247 62889", "+24762889", NULL, "fixed_line"},	/* AC: no ISO code */
		{NULL, NULL, NULL, NULL}
	};
	const char *bad[][2] = {
		{"49658245684", "format"},
		{"+49 658a245684", "format"},
		{"+49_658245684", "format"},
		{"+44 20 7946 0958 ext 12", "format"},
		{"+44 + 20", "format"},
		{"+49 65", "invalid"},
		{"+12", "length"},
		{"+4420794609581234567890", "length"},
		{"+999 1234567", "calling_code"},
		{"+0 1234567", "calling_code"},
		{"+1 415 555 26", "invalid"},
		{"+33 6 12 34 56 78 9", "invalid"},
		{"+1 212 111 0123", "invalid"}, /* possible, not valid */
		{"+49 31123456", "invalid"},
		{NULL, NULL}
	};
	char		long_input[PE_PHONE_INPUT_MAX + 2];
	PePhone		p;

	for (int i = 0; good[i][0]; i++)
	{
		const PeRule *r = pe_check_phone(S(good[i][0]), &p);
		const char *country = pe_phone_country(&p);

		check(r == NULL && strcmp(p.e164, good[i][1]) == 0 &&
			  ((country == NULL && good[i][2] == NULL) ||
			   (country && good[i][2] && strcmp(country, good[i][2]) == 0)) &&
			  strcmp(pe_phone_type_names[p.type], good[i][3]) == 0,
			  "phone accepted: E.164, country, type", good[i][0]);
	}
	for (int i = 0; bad[i][0]; i++)
	{
		const PeRule *r = pe_check_phone(S(bad[i][0]), &p);

		check(r != NULL && strcmp(r->rule, bad[i][1]) == 0, "phone rejected", bad[i][0]);
	}
	memset(long_input, ' ', sizeof(long_input) - 1);
	long_input[sizeof(long_input) - 1] = '\0';
	memcpy(long_input, "+49658245684", 12);
	check(pe_check_phone(long_input, strlen(long_input), &p) != NULL,
		  "phone input over 250 bytes rejected", NULL);
}

/*
 * test/unit/phone_cases.tsv: what libphonenumber (python3-phonenumbers,
 * the metadata the tables come from) says of every example number of every
 * region and type, their trunk-prefix and 00 forms, possible-but-invalid
 * and random numbers (test/tools/gen_phone_cases.py).  One check per
 * category; every disagreement is printed.
 */
static void
test_phone_cases(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[1024];
	const char *categories[] = {"example", "dd00", "trunk", "nongeo", "invalid", "fuzz", "manual"};
	int			total[7] = {0},
				agree[7] = {0};

	check(f != NULL, "phone cases file opened", path);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f))
	{
		char	   *field[6] = {0};
		int			n = 0,
					c;
		PePhone		p;
		PePhoneStatus st;
		bool		ok;

		line[strcspn(line, "\n")] = '\0';
		/* empty fields: strtok would merge tabs */
		field[0] = line;
		for (char *q = line; *q && n < 5; q++)
			if (*q == '\t')
			{
				*q = '\0';
				field[++n] = q + 1;
			}
		if (n < 5)
			continue;
		for (c = 0; c < 7; c++)
			if (strcmp(field[0], categories[c]) == 0)
				break;
		if (c == 7)
			continue;
		st = pe_phone_parse(field[1], strlen(field[1]), &p);
		if (strcmp(field[2], "ok") == 0)
			ok = st == PE_PHONE_OK && strcmp(p.e164, field[3]) == 0 &&
				strcmp(p.region, field[4]) == 0 &&
				strcmp(pe_phone_type_names[p.type], field[5]) == 0;
		else if (strcmp(field[2], "invalid") == 0)
			ok = st == PE_PHONE_INVALID;
		else if (strcmp(field[2], "bad_format") == 0)
			ok = st == PE_PHONE_BAD_FORMAT;
		else
			ok = st == PE_PHONE_BAD_CODE || st == PE_PHONE_BAD_LENGTH;
		total[c]++;
		if (ok)
			agree[c]++;
		else
			printf("# phone case disagrees: %s [%s] expected %s %s %s %s, got status %d %s %s\n",
				   field[0], field[1], field[2], field[3], field[4], field[5], (int) st,
				   p.e164, p.region);
	}
	fclose(f);
	for (int c = 0; c < 7; c++)
	{
		char		label[64];

		snprintf(label, sizeof(label), "%s: %d of %d", categories[c], agree[c], total[c]);
		check(total[c] > 0 && agree[c] == total[c], "phone cases as libphonenumber judges them", label);
	}
}

static void
test_codes(void)
{
	char		out[3];

	check(pe_normalize_country(S("us"), out) == NULL && strcmp(out, "US") == 0,
		  "country upper-cased", "us");
	check(pe_normalize_country(S("DE"), out) == NULL, "country DE", NULL);
	check(pe_normalize_country(S("XX"), out) != NULL, "country XX rejected", NULL);
	check(pe_normalize_country(S("UK"), out) != NULL, "country UK is not ISO 3166", NULL);
	check(pe_normalize_country(S("USA"), out) != NULL, "alpha-3 rejected", NULL);
	check(pe_check_language(S("en")) == NULL, "language en", NULL);
	check(pe_check_language(S("EN")) != NULL, "language must be lower-case", NULL);
	check(pe_check_language(S("xx")) != NULL, "language xx rejected", NULL);
	check(pe_check_language(S("eng")) != NULL, "language alpha-3 rejected", NULL);
	check(pe_iso3166_count == 249, "249 ISO 3166-1 codes", NULL);
}

static void
test_misc(void)
{
	int64_t		v;
	bool		b;

	check(pe_parse_integer(S("0"), &v) && v == 0, "int 0", NULL);
	check(pe_parse_integer(S("-5"), &v) && v == -5, "int -5", NULL);
	check(pe_parse_integer(S("100.00"), &v) && v == 100, "int 100.00", NULL);
	check(!pe_parse_integer(S("1.5"), &v), "int 1.5 rejected", NULL);
	check(!pe_parse_integer(S("1e3"), &v), "int 1e3 rejected", NULL);
	check(!pe_parse_integer(S("99999999999999999999"), &v), "int overflow rejected", NULL);
	check(pe_parse_integer(S("9223372036854775807"), &v) && v == INT64_MAX, "int64 max", NULL);
	check(pe_parse_integer(S("-9223372036854775808"), &v) && v == INT64_MIN, "int64 min", NULL);
	check(pe_check_int(2147483647) == NULL && pe_check_int(2147483648LL) != NULL &&
		  pe_check_int(-1) != NULL, "int range 0..2^31-1", NULL);
	check(pe_check_access_level(0) == NULL && pe_check_access_level(100) == NULL &&
		  pe_check_access_level(50) != NULL, "access level 0 or 100", NULL);
	check(pe_parse_bool_text(S("false"), &b) && !b, "bool text false", NULL);
	check(pe_parse_bool_text(S("TRUE"), &b) && b, "bool text TRUE", NULL);
	check(!pe_parse_bool_text(S("yes"), &b), "bool text yes rejected", NULL);
	check(pe_parse_status(S("E"), &b) && b && pe_parse_status(S("D"), &b) && !b,
		  "status E/D", NULL);
	check(!pe_parse_status(S("e"), &b), "status e rejected", NULL);
	check(pe_check_role(S("admin:read-1.x_y")) == NULL, "role accepted", NULL);
	check(pe_check_role(S("a b")) != NULL && pe_check_role(S("")) != NULL,
		  "role rejected", NULL);
	check(pe_check_name(S("sample-tenant")) == NULL, "name accepted", NULL);
	check(pe_check_name(S("Sample")) != NULL && pe_check_name(S("")) != NULL,
		  "name rejected", NULL);
	check(pe_utf8_chars(S("a\xc3\xb1" "b")) == 3, "utf8 chars", NULL);
	check(pe_utf8_chars("\xff\xfe", 2) == 2, "bad bytes count as characters", NULL);
	check(pe_check_type(PE_T_ENABLED, PE_JSON_STRING) == NULL &&
		  pe_check_type(PE_T_ENABLED, PE_JSON_NUMBER) != NULL, "enabled types", NULL);
	check(pe_check_type(PE_T_ATTRIBUTES, PE_JSON_OBJECT) == NULL &&
		  pe_check_type(PE_T_ATTRIBUTES, PE_JSON_ARRAY) != NULL, "attributes types", NULL);
	check(strcmp(pe_error_defs[PE_E_VALIDATION_FAILED].sqlstate, "23514") == 0 &&
		  pe_error_defs[PE_E_RATE_LIMITED].http == 429, "error table", NULL);
}

static void
test_uuid_time(void)
{
	uint8_t		u[16];
	int64_t		us;

	check(pe_parse_uuid(S("c908bc7c-9917-48fd-b862-d901a0880fef"), u) && u[0] == 0xc9 && u[15] == 0xef,
		  "uuid parsed", NULL);
	check(pe_parse_uuid(S("C908BC7C-9917-48FD-B862-D901A0880FEF"), u), "uuid upper case", NULL);
	check(!pe_parse_uuid(S("c908bc7c991748fdb862d901a0880fef"), u), "uuid without dashes rejected", NULL);
	check(!pe_parse_uuid(S("c908bc7c-9917-48fd-b862-d901a0880fe"), u), "short uuid rejected", NULL);
	check(!pe_parse_uuid(S("g908bc7c-9917-48fd-b862-d901a0880fef"), u), "non-hex uuid rejected", NULL);
	/* the SDK seed's dateTime */
	check(pe_parse_rfc3339(S("2020-01-28T13:16:01.714-05:00"), &us) && us == INT64_C(1580235361714000),
		  "rfc3339 with offset", "2020-01-28T13:16:01.714-05:00");
	check(pe_parse_rfc3339(S("1970-01-01T00:00:00Z"), &us) && us == 0, "epoch", NULL);
	check(pe_parse_rfc3339(S("1970-01-01t00:00:00z"), &us) && us == 0, "t and z in lower case", NULL);
	check(pe_parse_rfc3339(S("2024-02-29T23:59:59.999999+01:00"), &us) &&
		  us == INT64_C(1709247599999999), "leap day, microseconds", NULL);
	check(pe_parse_rfc3339(S("1970-01-01T00:00:00.1234567890Z"), &us) && us == 123456,
		  "digits past microseconds dropped", NULL);
	check(pe_parse_rfc3339(S("1970-01-01T00:00:00-00:00"), &us) && us == 0, "unknown offset -00:00", NULL);
	check(pe_parse_rfc3339(S("2016-12-31T23:59:60Z"), &us) && us == INT64_C(1483228800000000),
		  "leap second at 23:59:60 UTC is the next day's first", NULL);
	check(pe_parse_rfc3339(S("2016-12-31T15:59:60-08:00"), &us) && us == INT64_C(1483228800000000),
		  "leap second in another offset", NULL);
	check(pe_parse_rfc3339(S("2017-01-01T00:59:60+01:00"), &us), "leap second east of UTC", NULL);
	check(!pe_parse_rfc3339(S("2016-12-31T12:00:60Z"), &us), "second 60 at noon", NULL);
	check(!pe_parse_rfc3339(S("2016-12-31T23:59:60+01:00"), &us), "second 60 not at the end of a UTC day", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T13:16Z"), &us), "seconds required", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T13:16:01+05"), &us), "offset minutes required", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T13:16:01+0500"), &us), "offset colon required", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T13:16:01,5Z"), &us), "comma fraction rejected", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T13:16:01+24:00"), &us), "offset hour 24", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T13:16:61Z"), &us), "second 61", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T24:00:00Z"), &us), "hour 24", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T13:16:01"), &us), "offset required", NULL);
	check(!pe_parse_rfc3339(S("2023-02-29T00:00:00Z"), &us), "no Feb 29 in 2023", NULL);
	check(!pe_parse_rfc3339(S("2020-13-01T00:00:00Z"), &us), "month 13", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28 13:16:01Z"), &us), "space separator rejected", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T13:16:01Zx"), &us), "trailing garbage", NULL);
	check(!pe_parse_rfc3339(S("2020-01-28T13:16:01."), &us), "empty fraction", NULL);
	check(!pe_parse_rfc3339(S("yesterday"), &us), "not a date", NULL);
	{
		bool		alias;

		check(pe_sdk_key_lookup(S("countryCode"), &alias) == PE_SDK_COUNTRY && !alias, "sdk key", NULL);
		check(pe_sdk_key_lookup(S("tenant"), &alias) == PE_SDK_TENANT && alias, "sdk alias", NULL);
		check(pe_sdk_key_lookup(S("email"), &alias) == -1, "not an sdk key", NULL);
		check(pe_sdk_event_key_lookup(S("dateTime")) == PE_EV_DATE_TIME &&
			  pe_sdk_event_key_lookup(S("audit")) == PE_EV_AUDIT &&
			  pe_sdk_event_key_lookup(S("datetime")) == -1, "sdk event keys", NULL);
	}
}

/* The URL rule, clause by clause (src/core/pe_url.c). */
static void
test_url(void)
{
	static const char *const valid[] = {
		/* scheme: http or https, any case */
		"http://example.com", "https://example.com", "HTTPS://Example.COM", "hTTp://example.com",
		/* host: DNS names, IPv4, bracketed IPv6 */
		"https://a.b", "https://localhost", "https://xn--bcher-kva.example/",
		"https://a-b.c-d.example", "https://1a.example", "https://0xa.example", "https://x.0xg1",
		"http://192.168.0.1/", "http://0.0.0.0", "http://255.255.255.255/",
		"http://[::1]/", "http://[::]/", "http://[2001:db8::7]/x", "http://[1:2:3:4:5:6:7:8]/",
		"http://[::ffff:192.0.2.1]/", "http://[1:2:3:4:5:6:7::]/", "http://[::2:3:4:5:6:7:8]/",
		"http://[1:2:3:4:5:6:1.2.3.4]/",
		/* port: 1..65535 */
		"http://example.com:1/", "http://example.com:65535/", "http://[::1]:8080/", "http://example.com:080/",
		/* path, query, fragment */
		"https://example.com/", "https://example.com/a/b/c", "https://example.com/a//b",
		"https://example.com/verify?token=", "https://example.com?x=1", "https://example.com#frag",
		"https://example.com/p?q=1&r=2#f/g?h", "https://example.com/%41%2f%7E",
		"https://example.com/:@!$&'()*+,;=-._~", "https://example.com/?/?:@",
	};
	static const char *const invalid[] = {
		/* no or another scheme, not absolute */
		"", " ", "example.com", "//example.com", "/relative", "ftp://example.com", "javascript:alert(1)",
		"mailto:a@example.com", "http:/example.com", "http:example.com", "https//example.com", "http:://x.example",
		"data:text/html,<script>", "httpx://example.com", "https:\\\\example.com",
		/* empty or malformed host */
		"http://", "https:///path", "http://?x", "http://#f", "http://.example.com", "http://example..com",
		"http://-example.com", "http://example-.com", "http://exa_mple.com", "http://exa mple.com",
		"http://example.com\\@evil.example", "http://1.2.3.999", "http://256.1.1.1", "http://1.2.3",
		"http://01.2.3.4", "http://1.2.3.4.5", "http://\xc3\xa9xample.com", "http://%65xample.com",
		"http://[::1", "http://::1/", "http://[]/", "http://[1::2::3]/", "http://[12345::]/",
		"http://[1:2:3:4:5:6:7:8:9]/", "http://[1:2:3:4:5:6:7:8::]/", "http://[:1]/", "http://[1:]/",
		"http://[g::1]/", "http://[1.2.3.4::]/", "http://[fe80::1%25eth0]/", "http://[v1.x]/",
		"http://[::1]x/", "https://example.com./", "http://0x7f000001/", "http://1.2.3.0x4/",
		"http://example.0x/", "http://a.0XFF",
		/* user-info */
		"http://user@example.com", "http://user:pass@example.com/", "http://@example.com",
		/* port */
		"http://example.com:/", "http://example.com:0/", "http://example.com:65536/", "http://example.com:123456/",
		"http://example.com:-1/", "http://example.com:80a/", "http://example.com:+80/", "http://example.com: 80/",
		"http://example.com:80:80/",
		/* characters outside RFC 3986, broken escapes */
		"https://example.com/<script>", "https://example.com/a b", "https://example.com/\"x\"",
		"https://example.com/{id}", "https://example.com/a}", "https://example.com/a\\b", "https://example.com/a^b",
		"https://example.com/a`b", "https://example.com/a|b", "https://example.com/%", "https://example.com/%4",
		"https://example.com/%zz", "https://example.com/?q=%G0", "https://example.com/#a#b", "https://example.com/[x]",
		"https://example.com/\xc3\xa4", "https://example.com/\t", "https://example.com/\n", "https://example.com/?a=<b>",
		"https://example.com/#<x>",
	};
	char		buf[2100];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		check(pe_check_url(S(valid[i])) == NULL, "url accepted", valid[i]);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		check(pe_check_url(S(invalid[i])) != NULL, "url rejected", invalid[i]);
	/* at most 2048 characters */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "https://example.com/", 20);
	check(pe_check_url(buf, 2048) == NULL, "url of 2048 characters", NULL);
	check(pe_check_url(buf, 2049) != NULL, "url of 2049 characters", NULL);
	/* a label of 63, not 64; a name of 253, not 254 */
	memcpy(buf, "http://", 7);
	memset(buf + 7, 'a', 64);
	check(pe_check_url(buf, 7 + 63) == NULL && pe_check_url(buf, 7 + 64) != NULL, "label of 63, not 64", NULL);
	for (int i = 0; i < 64; i++)
		memcpy(buf + 7 + 4 * i, "abc.", 4);
	check(pe_check_url(buf, 7 + 251) == NULL && pe_check_url(buf, 7 + 255) != NULL, "name of at most 253", NULL);
}

static void
test_json_depth(void)
{
	char		deep[200001];

	check(!pe_json_depth_exceeds(S("{\"a\": [1, {\"b\": 2}]}"), 3), "json depth 3 within 3", NULL);
	check(pe_json_depth_exceeds(S("{\"a\": [1, {\"b\": 2}]}"), 2), "json depth 3 over 2", NULL);
	check(!pe_json_depth_exceeds(S("{\"a\": \"[[[[[[\"}"), 1), "brackets in strings do not count", NULL);
	check(!pe_json_depth_exceeds(S("{\"a\": \"\\\"[[[[\"}"), 1), "nor after an escaped quote", NULL);
	check(!pe_json_depth_exceeds(S("[][][][]"), 1), "siblings do not add up", NULL);
	memset(deep, '[', 100000);
	memset(deep + 100000, ']', 100000);
	check(pe_json_depth_exceeds(deep, 200000, 16), "100000 levels", NULL);
	check(!pe_json_depth_exceeds(deep + 99990, 20, 16), "10 levels", NULL);
}

int
main(int argc, char **argv)
{
	test_key_table();
	test_username();
	test_password();
	test_email();
	test_phone();
	test_phone_cases(argc > 1 ? argv[1] : "test/unit/phone_cases.tsv");
	test_codes();
	test_misc();
	test_uuid_time();
	test_url();
	test_json_depth();
	printf("1..%d\n", n_run);
	if (n_failed)
		fprintf(stderr, "%d of %d core checks failed\n", n_failed, n_run);
	return n_failed ? 1 : 0;
}
