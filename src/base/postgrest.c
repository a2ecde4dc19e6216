/*-------------------------------------------------------------------------
 *
 * src/base/postgrest.c
 *		What a call learns from PostgREST, and tells it back.
 *
 * PostgREST runs each request in one transaction and passes the request
 * through transaction-local settings (request.method, request.headers,
 * request.jwt.claims); a function tells it the HTTP status of a success
 * through response.status (README, "Exposing through PostgREST").  A
 * setting request.method that is empty or unset means the call did not come
 * through PostgREST.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "base/postgrest.h"

/* Is the call made by PostgREST (the setting request.method is set)? */
bool
profile_in_postgrest(void)
{
	const char *method = GetConfigOption("request.method", true, false);

	return method != NULL && method[0] != '\0';
}

/*
 * Tell PostgREST the HTTP status of a successful call (response.status, for
 * this transaction only); nothing outside PostgREST.
 */
void
profile_set_http_status(int status)
{
	char		buf[8];

	if (!profile_in_postgrest())
		return;
	snprintf(buf, sizeof(buf), "%d", status);
	(void) set_config_option("response.status", buf, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}
