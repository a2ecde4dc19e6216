/*-------------------------------------------------------------------------
 *
 * src/model/caller.c
 *		The steps every API call shares: set-up and tear-down, the request
 *		shape, and who is calling for which tenant (README, "Who is
 *		calling").
 *
 * Privileges.  The API functions are SECURITY INVOKER at the SQL level:
 * the caller needs EXECUTE (given by profile.grant_api) and nothing on
 * profile_data, and the call must know who the caller is (current_user
 * decides between the admin principal, trusted claims and nothing).  Once
 * the caller's role has been read, the call acts as the owner of
 * profile_data for its own statements (src/base/spi.c, "Acting as the
 * owner").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "base/crypto.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/postgrest.h"
#include "catalog/ratelimit.h"
#include "core/pe_json.h"
#include "model/caller.h"

/*
 * Run the body of an API function.  Whatever error it raises keeps the
 * statement (which may carry a password or a token) out of the server log,
 * and a unique violation on a profile's username, email or phone becomes
 * PROFILE_EXISTS (base/errors.c).  An audit context the body set is
 * dropped by the (sub)transaction abort (audit/audit.c).
 */
Jsonb	   *
profile_api_call(FunctionCallInfo fcinfo, ApiBody body)
{
	MemoryContext cxt = CurrentMemoryContext;
	Jsonb	   *volatile result = NULL;

	PG_TRY();
	{
		result = body(fcinfo);
	}
	PG_CATCH();
	{
		profile_rethrow_unique_as_exists(cxt);
	}
	PG_END_TRY();
	return result;
}

/* A jsonb argument of an API function; SQL NULL is JSON null (INVALID_REQUEST). */
Jsonb	   *
profile_payload_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("null")));
	return PG_GETARG_JSONB_P(argno);
}

/*
 * Start an API call: trace id, then act as the data owner with usable
 * caches.  writer: the SQL name of a function that writes, which a
 * read-only transaction refuses here, before any work is done or counted
 * (the password hash, the rate limit); NULL for a function that only
 * reads, which needs no contract either.
 */
void
profile_call_begin(ApiCall *ctx, const char *writer)
{
	memset(ctx, 0, sizeof(*ctx));
	if (writer)
		PreventCommandIfReadOnly(writer);
	profile_require_preload();
	ctx->writer = writer;
	profile_uuid_v4(&ctx->trace_id);
	ctx->now = GetCurrentTransactionStartTimestamp();
	ctx->caller = GetUserId();
	profile_begin_as_owner(&ctx->owner);

	/*
	 * A writer locks profile_data.profiles before it reads any tenant: taking
	 * the lock delivers the invalidations of every transaction committed
	 * before, so the settings it then reads are those its rows must meet (a
	 * change of username_uniqueness waits for writers, api/admin.c).
	 */
	if (writer)
	{
		LockRelationOid(profile_profiles_relid(), RowExclusiveLock);
		profile_cache_begin();
	}
}

/*
 * End an API call that succeeded.  The HTTP status for PostgREST is set
 * after search_path is restored, which undoes every setting made while
 * acting as the owner.
 */
void
profile_call_end(ApiCall *ctx)
{
	profile_owner_end(&ctx->owner);
	if (ctx->http_status)
		profile_set_http_status(ctx->http_status);
}

/* Request shape: a JSON object of at most 1 MiB and 32 levels. */
void
profile_check_request(ApiCall *ctx, Jsonb *payload)
{
	int			depth = 0;

	if (!JB_ROOT_IS_OBJECT(payload))
		profile_raise(PE_E_INVALID_REQUEST, &ctx->trace_id, NULL, NULL,
					  "request body must be a JSON object");

	/*
	 * 1 MiB stored or written out: a number like 1e131000 is a dozen bytes in
	 * jsonb and 131 kB as text, and audit events are hashed and shown as
	 * text.
	 */
	StaticAssertStmt(PE_MAX_PAYLOAD_BYTES == 1024 * 1024, "the message says 1 MiB");
	if (VARSIZE(payload) - VARHDRSZ > PE_MAX_PAYLOAD_BYTES ||
		profile_jsonb_measure(&payload->root, PE_MAX_PAYLOAD_BYTES, &depth))
		profile_raise(PE_E_INVALID_REQUEST, &ctx->trace_id, NULL, NULL,
					  "request body is larger than 1 MiB");
	if (depth > PE_MAX_PAYLOAD_DEPTH)
		profile_raise(PE_E_INVALID_REQUEST, &ctx->trace_id, NULL, NULL,
					  "request body is nested deeper than " PE_STR(PE_MAX_PAYLOAD_DEPTH) " levels");
}

/*
 * The "sub" and "tenant" of request.jwt.claims, if the setting holds a JSON
 * object with a "sub".  PostgREST sets it per transaction; after such a
 * transaction it reads as an empty string, not NULL.  A "sub" or "tenant"
 * that is there but not a string is UNAUTHENTICATED: ignoring it would let
 * the caller pick any tenant.
 */
static bool
read_claims(const ApiCall *ctx, char **sub, char **tenant)
{
	const char *raw = GetConfigOption("request.jwt.claims", true, false);
	Jsonb	   *claims;
	JsonbValue	k;
	JsonbValue *v;

	*sub = *tenant = NULL;
	if (raw == NULL || raw[0] == '\0')
		return false;
	/* the JSON parser recurses: refuse deep text before it sees it */
	if (pe_json_depth_exceeds(raw, strlen(raw), PE_MAX_PAYLOAD_DEPTH))
		profile_raise(PE_E_UNAUTHENTICATED, &ctx->trace_id, NULL, NULL,
					  "the JWT claims are nested deeper than " PE_STR(PE_MAX_PAYLOAD_DEPTH) " levels");
	if (pg_parse_json(profile_json_lexer(raw, strlen(raw)), &nullSemAction) != JSON_SUCCESS)
		return false;
	claims = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(raw)));
	if (!JB_ROOT_IS_OBJECT(claims))
		return false;
	k.type = jbvString;
	k.val.string.val = "sub";
	k.val.string.len = 3;
	v = findJsonbValueFromContainer(&claims->root, JB_FOBJECT, &k);
	if (v == NULL)
		return false;
	if (v->type != jbvString)
		profile_raise(PE_E_UNAUTHENTICATED, &ctx->trace_id, NULL, NULL,
					  "the JWT claim \"sub\" must be a string");
	*sub = pnstrdup(v->val.string.val, v->val.string.len);
	k.val.string.val = "tenant";
	k.val.string.len = 6;
	v = findJsonbValueFromContainer(&claims->root, JB_FOBJECT, &k);
	if (v && v->type != jbvString)
		profile_raise(PE_E_UNAUTHENTICATED, &ctx->trace_id, NULL, NULL,
					  "the JWT claim \"tenant\" must be a string");
	if (v)
		*tenant = pnstrdup(v->val.string.val, v->val.string.len);
	return true;
}

static bool
token_allows(const TokenInfo *tok, const char *tenant)
{
	if (tok->n_tenants < 0)
		return true;
	for (int i = 0; i < tok->n_tenants; i++)
		if (strcmp(tok->tenants[i], tenant) == 0)
			return true;
	return false;
}

/* 1 to 3 of README, "Who is calling": the principal. */
static void
resolve_principal(ApiCall *ctx, const ProfileInput *in)
{
	char	   *sub;
	char	   *claims_tenant;

	if (in->alias_conflict)
		profile_raise_validation(&ctx->trace_id, &in->errs);

	/* 1. the access token's client */
	if (in->present[PE_F_ACCESS_TOKEN])
	{
		const JsonbValue *v = &in->raw[PE_F_ACCESS_TOKEN];
		const TokenInfo *tok = NULL;

		if (v->type == jbvString)
			tok = profile_lookup_token(v->val.string.val, v->val.string.len);
		if (tok == NULL || tok->revoked || tok->expires_at <= ctx->now)
			profile_raise(PE_E_UNAUTHENTICATED, &ctx->trace_id, NULL, NULL,
						  "access token is unknown, expired or revoked");
		ctx->kind = PRINCIPAL_CLIENT;
		ctx->token = tok;
		ctx->client_id = tok->client_id;
		ctx->client = tok->client_name;
	}
	/* 2. JWT claims, from a role an admin trusts with them (only) */
	else if (profile_trusts_claims(ctx->caller) && read_claims(ctx, &sub, &claims_tenant))
	{
		ctx->client_id = profile_lookup_client(sub, strlen(sub));
		if (ctx->client_id < 0)
			profile_raise(PE_E_UNAUTHENTICATED, &ctx->trace_id, NULL, NULL,
						  "client \"%s\" of the JWT claims does not exist",
						  pnstrdup(sub, pg_mbcliplen(sub, strlen(sub), 64)));
		ctx->kind = PRINCIPAL_CLAIMS;
		ctx->client = sub;
		ctx->claims_tenant = claims_tenant;
	}
	/* 3. an admin role */
	else if (superuser_arg(ctx->caller) || profile_is_admin_role(ctx->caller))
	{
		ctx->kind = PRINCIPAL_ADMIN;
		ctx->client = GetUserNameFromId(ctx->caller, false);
	}
	else
		profile_raise(PE_E_UNAUTHENTICATED, &ctx->trace_id, NULL, NULL,
					  "no access token was given and role \"%s\" is not an admin",
					  GetUserNameFromId(ctx->caller, false));

}

/*
 * The tenant the request names, or the only one the principal may use; NULL
 * if neither (required: VALIDATION_FAILED instead).  A named tenant that
 * does not exist is TENANT_NOT_FOUND.
 */
static const TenantInfo *
named_tenant(ApiCall *ctx, const ProfileInput *in, bool required)
{
	const TenantInfo *tenant;
	const char *name;
	size_t		len;

	/* the tenant: named in the payload, or the token's only tenant */
	if (in->present[PE_F_TENANT])
	{
		const JsonbValue *v = &in->raw[PE_F_TENANT];

		if (v->type != jbvString)
		{
			FieldErrors errs = {0};

			profile_add_error(&errs, in->key[PE_F_TENANT], "type", "must be a string");
			profile_raise_validation(&ctx->trace_id, &errs);
		}
		name = v->val.string.val;
		len = v->val.string.len;
	}
	else if (ctx->token && ctx->token->n_tenants == 1)
	{
		name = ctx->token->tenants[0];
		len = strlen(name);
	}
	else if (ctx->claims_tenant)
	{
		name = ctx->claims_tenant;
		len = strlen(name);
	}
	else if (!required)
		return NULL;
	else
	{
		FieldErrors errs = {0};

		profile_add_error(&errs, "tenantName", "required",
						  "is required unless the access token is limited to one tenant");
		profile_raise_validation(&ctx->trace_id, &errs);
	}

	tenant = profile_lookup_tenant(name, len);
	if (tenant == NULL)
		profile_raise(PE_E_TENANT_NOT_FOUND, &ctx->trace_id, NULL, NULL,
					  "tenant \"%s\" does not exist",
					  pnstrdup(name, pg_mbcliplen(name, len, 64)));
	return tenant;
}

/* May the principal act in the tenant at all? */
static bool
may_use(const ApiCall *ctx, const TenantInfo *tenant)
{
	if (ctx->token && !token_allows(ctx->token, tenant->name))
		return false;
	if (ctx->claims_tenant && strcmp(ctx->claims_tenant, tenant->name) != 0)
		return false;
	return true;
}

/*
 * The tenant, then its contract and the rate limit: TENANT_FORBIDDEN,
 * CONTRACT_INACTIVE or RATE_LIMITED, or ctx->tenant set.
 */
static void
admit(ApiCall *ctx, const TenantInfo *tenant)
{
	if (ctx->token && !token_allows(ctx->token, tenant->name))
		profile_raise(PE_E_TENANT_FORBIDDEN, &ctx->trace_id, NULL, NULL,
					  "access token is not valid for tenant \"%s\"", tenant->name);
	if (ctx->claims_tenant && strcmp(ctx->claims_tenant, tenant->name) != 0)
		profile_raise(PE_E_TENANT_FORBIDDEN, &ctx->trace_id, NULL, NULL,
					  "the JWT claims are not valid for tenant \"%s\"", tenant->name);
	if (!tenant->enabled)
		profile_raise(PE_E_TENANT_FORBIDDEN, &ctx->trace_id, NULL, NULL,
					  "tenant \"%s\" is disabled", tenant->name);
	ctx->tenant = tenant;

	/* the tenant's required contract, for clients */
	if (ctx->writer && ctx->kind != PRINCIPAL_ADMIN && tenant->required_contract &&
		!profile_contract_active(ctx->client_id, tenant->required_contract,
								 ctx->now))
		profile_raise(PE_E_CONTRACT_INACTIVE, &ctx->trace_id, NULL, NULL,
					  "contract \"%s\" is not active for client \"%s\"",
					  tenant->required_contract, ctx->client);

	/* the rate limit, for every call of a client that got this far */
	if (!ctx->defer_rate_limit)
		profile_call_rate_limit(ctx);
}

/*
 * Count the call against its tenant's rate limit (clients only): at the
 * end of the opening, or, for a call with an idempotency key, once it is
 * known not to be a replay.
 */
void
profile_call_rate_limit(ApiCall *ctx)
{
	if (ctx->kind != PRINCIPAL_ADMIN)
		profile_rate_limit(ctx->client_id, ctx->client, ctx->tenant, &ctx->trace_id);
}

/*
 * Principal, tenant, contract and rate limit (README, "Who is calling"),
 * in that order.  The tenant's required contract applies to the calls that
 * create, change or remove a profile (ctx->writer).
 */
void
profile_resolve_caller(ApiCall *ctx, const ProfileInput *in)
{
	resolve_principal(ctx, in);
	admit(ctx, named_tenant(ctx, in, true));
}

/*
 * The same for a call on a profile id, whose tenant is the profile's own
 * (ids are unique across tenants): owner_tenant_id, or -1 if no profile
 * has the id.  false -- for the caller to report PROFILE_NOT_FOUND -- when
 * there is no such profile, or it is in a tenant the principal may not use
 * or the request does not name: the two look the same.  Such a call still
 * counts against the rate limit of the tenant the caller names or has.
 */
bool
profile_resolve_caller_for_profile(ApiCall *ctx, const ProfileInput *in,
								   int64 owner_tenant_id)
{
	const TenantInfo *named;
	const TenantInfo *owner = NULL;

	resolve_principal(ctx, in);
	named = named_tenant(ctx, in, false);
	if (owner_tenant_id >= 0)
		owner = profile_tenant_by_id(owner_tenant_id);
	if (owner == NULL || !may_use(ctx, owner) ||
		(named != NULL && named->id != owner->id))
	{
		if (named != NULL && ctx->kind != PRINCIPAL_ADMIN && may_use(ctx, named) &&
			named->enabled)
			profile_rate_limit(ctx->client_id, ctx->client, named, &ctx->trace_id);
		return false;
	}
	admit(ctx, owner);
	return true;
}
