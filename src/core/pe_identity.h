/*-------------------------------------------------------------------------
 *
 * src/core/pe_identity.h
 *		The username rule and the uniqueness keys of usernames and emails,
 *		the same in every database (pe_identity.c, with ICU).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_IDENTITY_H
#define PE_IDENTITY_H

#include "pe_rule.h"

#define PE_USERNAME_MIN			5
#define PE_USERNAME_MAX			128 /* code points of the NFC form */

/*
 * UTF-16 units of the working buffers: an NFC form of an input that can
 * still be a username, and the NFKC_Casefold key of a username (a code
 * point folds to at most 18).
 */
#define PE_USERNAME_BUF			6144

/*
 * Bytes a caller gives pe_username_key (UTF-8 of the key, NUL), and
 * pe_username_skeleton and pe_username_shape (whose results can be twice
 * as long).  Every caller uses these, so all agree on what fits.
 */
#define PE_USERNAME_KEY_CAP		(PE_USERNAME_BUF * 3 + 1)
#define PE_USERNAME_SKELETON_CAP	(PE_USERNAME_KEY_CAP * 2)

/* The longest text (bytes) pe_username_key and pe_username_skeleton take. */
#define PE_IDENTITY_MAX_INPUT	65536

/* A username that passed the rule: its stored (NFC) form and its key. */
typedef struct PeUsername
{
	char		nfc[PE_USERNAME_MAX * 4 + 1];
	char		key[PE_USERNAME_BUF * 3 + 1];
} PeUsername;


/*
 * Check a username; NULL if it passes, with out filled in (NUL-terminated
 * UTF-8), else the rule it breaks.
 */
extern const PeRule *pe_username_check(const char *s, size_t len, PeUsername *out);

/*
 * The NFKC_Casefold key of any text (a stored username, which may predate
 * the rule) into out (cap bytes, NUL-terminated): its length, or -1 if it
 * cannot be computed (not UTF-8, longer than PE_IDENTITY_MAX_INPUT, no
 * room).
 */
extern int	pe_username_key(const char *s, size_t len, char *out, size_t cap);

/* The UTS #39 skeleton of a key, the same way; -1 on failure. */
extern int	pe_username_skeleton(const char *key, size_t len, char *out, size_t cap);

/*
 * The shape of a username (its stored NFC form), for tenants that refuse
 * look-alikes: the skeleton of the NFKC_Casefold of its skeleton.  The
 * skeleton of the key alone misses look-alikes that differ in case: the
 * Greek capitals of "ΒΕΤΗ" look like Latin "BETH", their small letters do
 * not.  -1 on failure, as pe_username_key.
 */
extern int	pe_username_shape(const char *s, size_t len, char *out, size_t cap);

/* An email's key: the address lower-cased in ASCII (out: len + 1 bytes). */
extern void pe_email_key(const char *email, size_t len, char *out);

#endif							/* PE_IDENTITY_H */
