/*-------------------------------------------------------------------------
 *
 * test/fuzz/fuzz_core.c
 *		libFuzzer driver for the rule core's parsers and normalisers.
 *
 * Feeds arbitrary bytes to every validator and normaliser of src/core and
 * checks the invariants they promise: no crash or out-of-bounds access
 * (run under AddressSanitizer and UBSan), NUL-terminated output of bounded
 * length, and idempotence (a normalised email or phone normalises to
 * itself).  Build and run:
 *
 *   make fuzzcheck                 # 60 seconds
 *   make fuzzcheck FUZZ_SECONDS=600
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pe_errors.h"
#include "pe_fields.h"
#include "pe_identity.h"
#include "pe_json.h"
#include "pe_phone.h"
#include "pe_tables.h"
#include "pe_url.h"
#include "pe_validate.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	char	   *out = malloc(size + 1);
	PePhone		phone;
	char		cc[3];
	int64_t		i;
	bool		b,
				alias;

	(void) pe_field_lookup(s, size, &alias);
	(void) pe_field_by_name(s, size);
	(void) pe_setting_lookup(s, size);
	(void) pe_utf8_chars(s, size);
	{
		PeUsername	u;

		(void) pe_username_check(s, size, &u);
	}
	{
		/* the keys of any text: idempotent where they exist */
		size_t		cap = size * 18 * 3 + 64;
		char	   *key = malloc(cap);
		char	   *again = malloc(cap);
		char	   *skeleton = malloc(cap * 2);
		int			n = pe_username_key(s, size, key, cap);

		if (n >= 0 && (pe_username_key(key, (size_t) n, again, cap) != n ||
					   memcmp(key, again, (size_t) n) != 0))
			abort();
		if (n >= 0)
			(void) pe_username_skeleton(key, (size_t) n, skeleton, cap * 2);
		(void) pe_username_shape(s, size, skeleton, cap * 2);
		free(key);
		free(again);
		free(skeleton);
	}
	(void) pe_check_password(s, size);
	for (int f = 0; f < PE_F__COUNT; f++)
		if (pe_fields[f].type == PE_T_TEXT)
			(void) pe_check_text(&pe_fields[f], s, size);
	(void) pe_check_language(s, size);
	(void) pe_check_role(s, size);
	(void) pe_check_url(s, size);
	(void) pe_check_name(s, size);
	(void) pe_parse_integer(s, size, &i);
	(void) pe_parse_bool_text(s, size, &b);
	(void) pe_parse_status(s, size, &b);
	(void) pe_normalize_country(s, size, cc);
	{
		uint8_t		u[16];
		int64_t		us;

		(void) pe_parse_uuid(s, size, u);
		(void) pe_parse_rfc3339(s, size, &us);
	}

	if (pe_normalize_email(s, size, out) == NULL)
	{
		char	   *again = malloc(size + 1);

		if (strlen(out) != size || pe_normalize_email(out, size, again) != NULL ||
			strcmp(out, again) != 0)
			abort();
		free(again);
	}
	if (pe_check_phone(s, size, &phone) == NULL)
	{
		PePhone		again;

		/* the stored form is a fixed point, with the same region and type */
		if (phone.e164[0] != '+' ||
			pe_check_phone(phone.e164, strlen(phone.e164), &again) != NULL ||
			strcmp(phone.e164, again.e164) != 0 ||
			strcmp(phone.region, again.region) != 0 || phone.type != again.type)
			abort();
	}
	free(out);
	return 0;
}
