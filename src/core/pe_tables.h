/*-------------------------------------------------------------------------
 *
 * src/core/pe_tables.h
 *		The code tables generated from public data (pe_tables.c, made by
 *		test/tools/gen_core_tables.py) and their lookups (pe_validate.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_TABLES_H
#define PE_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Code tables (generated: src/core/pe_tables.c). */
typedef struct PeCallingCode
{
	int			code;
	uint32_t	lengths;		/* bit n set: n-digit national numbers */
	const char *country;		/* the one country of the code, or NULL */
} PeCallingCode;

extern const char pe_iso3166_codes[][3];
extern const int pe_iso3166_count;
extern const char pe_iso639_codes[][3];
extern const int pe_iso639_count;
extern const PeCallingCode pe_calling_codes[];
extern const int pe_calling_code_count;

extern const PeCallingCode *pe_calling_code(int code);
extern bool pe_is_country(const char *code2);
extern bool pe_is_language(const char *code2);

#endif							/* PE_TABLES_H */
