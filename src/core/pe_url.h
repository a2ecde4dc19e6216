/*-------------------------------------------------------------------------
 *
 * src/core/pe_url.h
 *		The URL rule: absolute http(s) URIs of RFC 3986 (pe_url.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_URL_H
#define PE_URL_H

#include "pe_rule.h"

/* NULL if s is an acceptable link, else the rule it breaks. */
extern const PeRule *pe_check_url(const char *s, size_t len);

#endif							/* PE_URL_H */
