/*-------------------------------------------------------------------------
 *
 * src/base/postgrest.h
 *		What a call learns from PostgREST, and tells it back (postgrest.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_POSTGREST_H
#define PROFILE_POSTGREST_H

extern bool profile_in_postgrest(void);
extern void profile_set_http_status(int status);
extern char *profile_request_header(const char *name);

#endif							/* PROFILE_POSTGREST_H */
