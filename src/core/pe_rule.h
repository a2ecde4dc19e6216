/*-------------------------------------------------------------------------
 *
 * src/core/pe_rule.h
 *		What every part of the rule core shares: the PeRule a validator
 *		returns, and the limits of the contract.
 *
 * Nothing in src/core includes a PostgreSQL header, so the core can be
 * compiled on its own for unit tests (test/unit) and fuzzing (test/fuzz).
 * Strings are UTF-8 and passed with an explicit byte length; they need not
 * be NUL-terminated.  Validators return NULL when the value is acceptable,
 * else a pointer to a static PeRule naming the rule and a message fit for
 * the "errors" list of a VALIDATION_FAILED detail.  Messages never quote
 * the value, so no secret can leak through them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_RULE_H
#define PE_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A broken rule: machine-readable name and a human-readable message. */
typedef struct PeRule
{
	const char *rule;
	const char *message;
} PeRule;

/*
 * The limits of the contract (README, Reference).  Plain numbers, so that
 * the messages of the rules that enforce them can be built from them
 * (PE_STR) and never disagree.
 */
#define PE_MAX_PAYLOAD_BYTES	1048576 /* a request, as jsonb: 1 MiB */
#define PE_MAX_PAYLOAD_DEPTH	32
#define PE_MAX_ATTR_BYTES		65536	/* attributes, serialised: 64 KiB */
#define PE_MAX_ATTR_DEPTH		16
#define PE_MAX_INT				2147483647
#define PE_MAX_URL_CHARS		2048
#define PE_MAX_ROLES			100 /* roles as given, before de-duplication */
#define PE_MAX_ARRAY_ITEMS		1000	/* integer and string arrays */
#define PE_MAX_SELECTOR_CHARS	1024	/* an item of stored_selectors */
#define PE_MAX_SDK_EVENTS		1000
#define PE_MAX_BATCH			1000	/* profiles of one create_profiles */
#define PE_MAX_SDK_STRING		256
#define PE_MAX_SDK_VERSION		64

/*
 * A value whose rule could not be checked -- memory ran out, ICU failed:
 * not the value's fault; callers raise an internal error instead.
 */
extern const PeRule pe_rule_internal;

#define PE_STR_(x) #x
#define PE_STR(x) PE_STR_(x)

#endif							/* PE_RULE_H */
