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

#include "common/jsonapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "compat.h"
#include "base/json.h"
#include "base/postgrest.h"
#include "core/pe_json.h"

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

/*
 * A request header PostgREST passed (request.headers, a JSON object with
 * lower-case names), as a palloc'd string; NULL if there is none, or the
 * call did not come through PostgREST.  name: lower case.
 */
char	   *
profile_request_header(const char *name)
{
	const char *raw;
	Jsonb	   *headers;
	JsonbValue	k;
	JsonbValue *v;

	if (!profile_in_postgrest())
		return NULL;
	raw = GetConfigOption("request.headers", true, false);
	if (raw == NULL || raw[0] == '\0')
		return NULL;
	/* most requests lack it: no parse (PostgREST writes names unescaped) */
	if (strstr(raw, name) == NULL)
		return NULL;
	/* PostgREST writes a flat object; anything deeper is not its */
	if (pe_json_depth_exceeds(raw, strlen(raw), 2))
		return NULL;
	if (pg_parse_json(profile_json_lexer(raw, strlen(raw)), &nullSemAction) != JSON_SUCCESS)
		return NULL;
	headers = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(raw)));
	if (!JB_ROOT_IS_OBJECT(headers))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	v = findJsonbValueFromContainer(&headers->root, JB_FOBJECT, &k);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}
