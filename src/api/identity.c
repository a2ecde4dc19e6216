/*-------------------------------------------------------------------------
 *
 * src/api/identity.c
 *		The identity rules as SQL functions, for the upgrade script and for
 *		admins resolving what it listed (README, "Identity").
 *
 * profile_data.username_key(text), username_skeleton(text), email_key(text)
 * and phone_key(text) give the keys by which profiles are unique, the same
 * ones the API computes (model/fields.c); username_rule(text) and
 * phone_rule(text) name the 1.1 rule a stored value breaks, or return
 * NULL.  They are in profile_data, so PostgREST never exposes them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "core/pe_identity.h"
#include "core/pe_phone.h"
#include "core/pe_validate.h"

/* text of a C string of len bytes */
static text *
key_text(const char *s, int len)
{
	if (len < 0)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("a value is too long to be compared"));
	return cstring_to_text_with_len(s, len);
}

PG_FUNCTION_INFO_V1(username_key);

/* profile_data.username_key(text) RETURNS text: the NFKC_Casefold key */
Datum
username_key(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *key = palloc(PE_USERNAME_KEY_CAP);

	PG_RETURN_TEXT_P(key_text(key, pe_username_key(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
												   key, PE_USERNAME_KEY_CAP)));
}

PG_FUNCTION_INFO_V1(username_skeleton);

/* profile_data.username_skeleton(text) RETURNS text: its key's skeleton */
Datum
username_skeleton(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *key = palloc(PE_USERNAME_KEY_CAP);
	char	   *skeleton = palloc(PE_USERNAME_SKELETON_CAP);
	int			n = pe_username_key(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), key,
									PE_USERNAME_KEY_CAP);

	if (n >= 0)
		n = pe_username_skeleton(key, n, skeleton, PE_USERNAME_SKELETON_CAP);
	PG_RETURN_TEXT_P(key_text(skeleton, n));
}

PG_FUNCTION_INFO_V1(username_shape);

/* profile_data.username_shape(text) RETURNS text (pe_identity.h) */
Datum
username_shape(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *shape = palloc(PE_USERNAME_SKELETON_CAP);

	PG_RETURN_TEXT_P(key_text(shape, pe_username_shape(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
													   shape, PE_USERNAME_SKELETON_CAP)));
}

PG_FUNCTION_INFO_V1(email_key);

/* profile_data.email_key(text) RETURNS text: lower-cased in ASCII */
Datum
email_key(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	char	   *key = palloc(len + 1);

	pe_email_key(VARDATA_ANY(t), len, key);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(key, len));
}

PG_FUNCTION_INFO_V1(username_rule);

/*
 * profile_data.username_rule(text) RETURNS text: the rule a username
 * breaks, or NULL (a username is stored in NFC: one that is not breaks
 * rule "nfc").
 */
Datum
username_rule(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	PeUsername *u = palloc(sizeof(PeUsername));
	const PeRule *r = pe_username_check(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), u);

	if (r == &pe_rule_internal)
		ereport(ERROR,
				errcode(ERRCODE_INTERNAL_ERROR),
				errmsg("could not check a username"),
				errdetail("ICU could not normalise it or judge its scripts."));
	if (r)
		PG_RETURN_TEXT_P(cstring_to_text(r->rule));
	if (strlen(u->nfc) != VARSIZE_ANY_EXHDR(t) ||
		memcmp(u->nfc, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)) != 0)
		PG_RETURN_TEXT_P(cstring_to_text("nfc"));
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(phone_key);

/*
 * profile_data.phone_key(text) RETURNS text: the number in E.164 as
 * libphonenumber parses it (a trunk prefix dropped), valid or not; a value
 * that does not parse is its own key.
 */
Datum
phone_key(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	PePhone		p;

	switch (pe_phone_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &p))
	{
		case PE_PHONE_OK:
		case PE_PHONE_INVALID:
			PG_RETURN_TEXT_P(cstring_to_text(p.e164));
		case PE_PHONE_INTERNAL:
			ereport(ERROR,
					errcode(ERRCODE_OUT_OF_MEMORY),
					errmsg("out of memory"),
					errdetail("Could not compile a pattern of the phone number rule."));
		default:
			break;
	}
	PG_RETURN_TEXT_P(t);
}

PG_FUNCTION_INFO_V1(phone_rule);

/*
 * profile_data.phone_rule(text) RETURNS text: the rule a stored number
 * breaks (format, calling_code, length, invalid), "canonical" for a valid
 * number not stored in its E.164 form (a trunk prefix), or NULL.
 */
Datum
phone_rule(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	PePhone		p;
	const PeRule *r = pe_check_phone(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &p);

	if (r == &pe_rule_internal)
		ereport(ERROR,
				errcode(ERRCODE_OUT_OF_MEMORY),
				errmsg("out of memory"),
				errdetail("Could not compile a pattern of the phone number rule."));
	if (r)
		PG_RETURN_TEXT_P(cstring_to_text(r->rule));
	if (strlen(p.e164) != VARSIZE_ANY_EXHDR(t) ||
		memcmp(p.e164, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)) != 0)
		PG_RETURN_TEXT_P(cstring_to_text("canonical"));
	PG_RETURN_NULL();
}
