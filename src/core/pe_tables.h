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
extern const char pe_iso3166_codes[][3];
extern const int pe_iso3166_count;
extern const char pe_iso639_codes[][3];
extern const int pe_iso639_count;

extern bool pe_is_country(const char *code2);
extern bool pe_is_language(const char *code2);

#endif							/* PE_TABLES_H */
