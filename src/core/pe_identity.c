/*-------------------------------------------------------------------------
 *
 * src/core/pe_identity.c
 *		Identities that are unique the same way in every database: the
 *		username rule and the uniqueness keys of usernames and emails
 *		(README, "Identity").
 *
 * Usernames.  A username is stored in Unicode NFC.  It has 5 to 128 code
 * points, each a letter, mark, digit, punctuation or symbol (general
 * categories L, M, N, P, S) and none default-ignorable: no whitespace,
 * control, format (zero-width characters, the soft hyphen, bidi controls),
 * private-use, surrogate, unassigned or default-ignorable code point
 * (U+FE0F, U+3164, U+034F ...).  Its scripts may mix no more than Unicode
 * UTS #39's "moderately restrictive" level allows, as ICU's spoof checker
 * judges the NFC form at that level with its default set of allowed
 * characters (every character), so Latin with Han and Hiragana passes and
 * Latin with Cyrillic does not (rule mixed_script).
 *
 * Keys.  Two usernames are the same when their NFKC_Casefold forms are
 * equal (the username key): ADMIN and admin, STRASSE and straße, ＡＬＩＣＥ
 * and alice, NFC and NFD josé.  NFKC_Casefold is Unicode's own
 * locale-independent folding, so the verdict is the same in a Turkish
 * database as in any other; it never goes through the database's collation
 * or lower().  A tenant that asks for it also keeps usernames apart whose
 * UTS #39 skeletons of their keys are equal (pаypal with a Cyrillic а and
 * paypal).  An email's key is the address lower-cased in ASCII (emails are
 * ASCII, so nothing else is needed).
 *
 * Unicode comes from ICU (normalisation, case folding, character
 * properties, the spoof checker): the same library PostgreSQL links, never
 * hand-written tables.  Work is bounded: the input is refused before any
 * normalisation when it is too long for any NFC form of it to have 128
 * code points.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "pe_identity.h"
#include "pe_validate.h"


static const PeRule r_length = {"length", "must be " PE_STR(PE_USERNAME_MIN) " to " PE_STR(PE_USERNAME_MAX) " characters"};
static const PeRule r_chars = {"format", "must hold only letters, marks, digits, punctuation and symbols (no spaces, controls, format or invisible characters)"};
static const PeRule r_mixed = {"mixed_script", "must not mix scripts beyond Unicode UTS #39's moderately restrictive level"};
static const PeRule r_encoding = {"format", "must be valid UTF-8"};

/*
 * No composition turns more than this many code points into one (Greek
 * letters with three marks take four), so an input longer than
 * PE_USERNAME_MAX times this cannot be a valid username in NFC.
 */
#define MAX_COMPOSITION 8

/* The spoof checker: made once, used for every check. */
static USpoofChecker *
spoof_checker(void)
{
	static USpoofChecker * sc = NULL;

	if (sc == NULL)
	{
		UErrorCode	err = U_ZERO_ERROR;
		USpoofChecker *c = uspoof_open(&err);

		if (U_FAILURE(err))
			return NULL;
		uspoof_setRestrictionLevel(c, USPOOF_MODERATELY_RESTRICTIVE);
		uspoof_setChecks(c, USPOOF_RESTRICTION_LEVEL, &err);
		if (U_FAILURE(err))
		{
			uspoof_close(c);
			return NULL;
		}
		sc = c;
	}
	return sc;
}

/* UTF-8 to UTF-16; -1 on bad UTF-8 or no room. */
static int32_t
to_utf16(const char *s, size_t len, UChar * out, int32_t cap)
{
	UErrorCode	err = U_ZERO_ERROR;
	int32_t		n = 0;

	u_strFromUTF8(out, cap, &n, s, (int32_t) len, &err);
	return U_SUCCESS(err) && n <= cap ? n : -1;
}

/* UTF-16 to UTF-8 into out (cap bytes, NUL-terminated); -1 if no room. */
static int32_t
to_utf8(const UChar * s, int32_t len, char *out, int32_t cap)
{
	UErrorCode	err = U_ZERO_ERROR;
	int32_t		n = 0;

	u_strToUTF8(out, cap, &n, s, len, &err);
	if (U_FAILURE(err) || n >= cap)
		return -1;
	out[n] = '\0';
	return n;
}

/* Normalise src with norm into dst; -1 on failure. */
static int32_t
normalize(const UNormalizer2 * norm, const UChar * src, int32_t len,
		  UChar * dst, int32_t cap)
{
	UErrorCode	err = U_ZERO_ERROR;
	int32_t		n = unorm2_normalize(norm, src, len, dst, cap, &err);

	return U_SUCCESS(err) ? n : -1;
}

/*
 * Is c allowed in a username (categories L M N P S, not default-ignorable)?
 * U+2800 BRAILLE PATTERN BLANK is a symbol that shows nothing: refused as
 * the invisible characters are.
 */
static bool
allowed_char(UChar32 c)
{
	return (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_M_MASK | U_GC_N_MASK |
								U_GC_P_MASK | U_GC_S_MASK)) != 0 &&
		!u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) &&
		c != 0x2800;
}

const PeRule *
pe_username_check(const char *s, size_t len, PeUsername *out)
{
	UChar		raw[PE_USERNAME_MAX * MAX_COMPOSITION * 2];
	UChar		nfc[PE_USERNAME_BUF];
	UChar		key[PE_USERNAME_BUF];
	int32_t		nraw,
				nnfc,
				nkey,
				points = 0;
	UErrorCode	err = U_ZERO_ERROR;
	const		UNormalizer2 *nfc_norm = unorm2_getNFCInstance(&err);
	const		UNormalizer2 *key_norm = unorm2_getNFKCCasefoldInstance(&err);
	USpoofChecker *sc = spoof_checker();

	out->nfc[0] = out->key[0] = '\0';
	if (U_FAILURE(err) || sc == NULL)
		return &pe_rule_internal;
	/* bounded work: far too long is refused before normalising */
	if (pe_utf8_chars(s, len) > (size_t) PE_USERNAME_MAX * MAX_COMPOSITION)
		return &r_length;
	nraw = to_utf16(s, len, raw, (int32_t) (sizeof(raw) / sizeof(raw[0])));
	if (nraw < 0)
		return &r_encoding;
	nnfc = normalize(nfc_norm, raw, nraw, nfc, PE_USERNAME_BUF);
	if (nnfc < 0)
		return &r_length;

	for (int32_t i = 0; i < nnfc;)
	{
		UChar32		c;

		U16_NEXT(nfc, i, nnfc, c);
		if (!allowed_char(c))
			return &r_chars;
		points++;
	}
	if (points < PE_USERNAME_MIN || points > PE_USERNAME_MAX)
		return &r_length;
	if (uspoof_check2(sc, nfc, nnfc, NULL, &err) & USPOOF_RESTRICTION_LEVEL)
		return &r_mixed;
	if (U_FAILURE(err))
		return &pe_rule_internal;

	nkey = normalize(key_norm, nfc, nnfc, key, PE_USERNAME_BUF);
	if (nkey < 0 ||
		to_utf8(nfc, nnfc, out->nfc, sizeof(out->nfc)) < 0 ||
		to_utf8(key, nkey, out->key, sizeof(out->key)) < 0)
		return &r_length;
	return NULL;
}

int
pe_username_key(const char *s, size_t len, char *out, size_t cap)
{
	UChar	   *raw;
	UChar	   *key;
	int32_t		nraw,
				nkey;
	int32_t		rawcap = (int32_t) len + 1;
	int32_t		keycap = (int32_t) len * 18 + 1;	/* the largest expansion */
	UErrorCode	err = U_ZERO_ERROR;
	const		UNormalizer2 *key_norm = unorm2_getNFKCCasefoldInstance(&err);
	int			n = -1;

	if (U_FAILURE(err) || len > PE_IDENTITY_MAX_INPUT)
		return -1;
	raw = malloc(sizeof(UChar) * (size_t) rawcap);
	key = malloc(sizeof(UChar) * (size_t) keycap);
	if (raw && key && (nraw = to_utf16(s, len, raw, rawcap)) >= 0 &&
		(nkey = normalize(key_norm, raw, nraw, key, keycap)) >= 0)
		n = to_utf8(key, nkey, out, (int32_t) cap);
	free(raw);
	free(key);
	return n;
}

int
pe_username_skeleton(const char *key, size_t len, char *out, size_t cap)
{
	UErrorCode	err = U_ZERO_ERROR;
	USpoofChecker *sc = spoof_checker();
	int32_t		n;

	if (sc == NULL || len > PE_IDENTITY_MAX_INPUT)
		return -1;
	n = uspoof_getSkeletonUTF8(sc, 0, key, (int32_t) len, out, (int32_t) cap, &err);
	if (U_FAILURE(err) || n >= (int32_t) cap)
		return -1;
	out[n] = '\0';
	return n;
}

int
pe_username_shape(const char *s, size_t len, char *out, size_t cap)
{
	char	   *skeleton;
	char	   *folded;
	size_t		scap = cap,
				fcap = cap;
	int			n = -1;

	/* skeleton(NFKC_Casefold(skeleton(s))): the look, then the case */
	if (len > PE_IDENTITY_MAX_INPUT)
		return -1;
	skeleton = malloc(scap);
	folded = malloc(fcap);
	if (skeleton && folded &&
		(n = pe_username_skeleton(s, len, skeleton, scap)) >= 0 &&
		(n = pe_username_key(skeleton, (size_t) n, folded, fcap)) >= 0)
		n = pe_username_skeleton(folded, (size_t) n, out, cap);
	else
		n = -1;
	free(skeleton);
	free(folded);
	return n;
}

void
pe_email_key(const char *email, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
	{
		char		c = email[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c;
	}
	out[len] = '\0';
}
