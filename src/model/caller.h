/*-------------------------------------------------------------------------
 *
 * src/model/caller.h
 *		The steps every API call shares: who is calling, for which tenant
 *		(caller.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_CALLER_H
#define PROFILE_CALLER_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "base/spi.h"
#include "catalog/cache.h"
#include "model/fields.h"

typedef enum PrincipalKind
{
	PRINCIPAL_CLIENT,			/* by access token */
	PRINCIPAL_CLAIMS,			/* by trusted JWT claims */
	PRINCIPAL_ADMIN
} PrincipalKind;

/* Everything an API call has established about itself. */
typedef struct ApiCall
{
	const char *writer;			/* the function, if it writes; else NULL */
	pg_uuid_t	trace_id;
	TimestampTz now;
	PrincipalKind kind;
	const TokenInfo *token;		/* PRINCIPAL_CLIENT */
	int64		client_id;		/* PRINCIPAL_CLIENT and PRINCIPAL_CLAIMS */
	const char *client;			/* client name, or role name for admins */
	const char *claims_tenant;	/* PRINCIPAL_CLAIMS: the "tenant" claim */
	const TenantInfo *tenant;
	Oid			caller;			/* current_user at entry */
	OwnerSection owner;
	int			http_status;	/* for PostgREST, set at the end; 0: none */
	bool		defer_rate_limit;	/* the caller counts it later
									 * (idempotency) */
} ApiCall;

typedef Jsonb *(*ApiBody) (FunctionCallInfo fcinfo);

extern Jsonb *profile_api_call(FunctionCallInfo fcinfo, ApiBody body);
extern Jsonb *profile_payload_arg(FunctionCallInfo fcinfo, int argno);
extern void profile_call_begin(ApiCall *ctx, const char *writer);
extern void profile_check_request(ApiCall *ctx, Jsonb *payload);
extern void profile_resolve_caller(ApiCall *ctx, const ProfileInput *in);
extern bool profile_resolve_caller_for_profile(ApiCall *ctx, const ProfileInput *in,
											   int64 owner_tenant_id);
extern void profile_call_end(ApiCall *ctx);
extern void profile_call_rate_limit(ApiCall *ctx);

#endif							/* PROFILE_CALLER_H */
