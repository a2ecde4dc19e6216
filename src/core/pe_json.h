/*-------------------------------------------------------------------------
 *
 * src/core/pe_json.h
 *		A look at JSON text before it is parsed (pe_json.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_JSON_H
#define PE_JSON_H

#include "pe_rule.h"

/*
 * Is JSON text nested deeper than limit (arrays and objects; the outermost
 * counts as 1)?  Linear, no recursion; the text need not be valid.
 */
extern bool pe_json_depth_exceeds(const char *s, size_t len, int limit);

#endif							/* PE_JSON_H */
