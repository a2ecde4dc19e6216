/*-------------------------------------------------------------------------
 *
 * src/catalog/cache.h
 *		Backend-local caches of tenants, access tokens, contracts, clients
 *		and marked roles, with invalidation (cache.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_CACHE_H
#define PROFILE_CACHE_H

#include "datatype/timestamp.h"

#include "base/spi.h"
#include "catalog/settings.h"

/* An access token, as a call uses it. */
typedef struct TokenInfo
{
	int64		token_id;
	int64		client_id;
	char	   *client_name;
	int			n_tenants;		/* -1: any tenant */
	char	  **tenants;
	TimestampTz expires_at;		/* DT_NOEND: never */
	bool		revoked;
} TokenInfo;

extern void profile_cache_init(void);
extern void profile_cache_begin(void);
extern void profile_begin_as_owner(OwnerSection *s);
extern const TokenInfo *profile_lookup_token(const char *token, size_t len);
extern const TenantInfo *profile_lookup_tenant(const char *name, size_t len);
extern const TenantInfo *profile_tenant_by_id(int64 tenant_id);
extern bool profile_contract_active(int64 client_id, const char *contract,
									TimestampTz now);
extern int64 profile_lookup_client(const char *name, size_t len);
extern bool profile_is_admin_role(Oid roleid);
extern bool profile_trusts_claims(Oid roleid);
extern Oid	profile_tenants_relid(void);
extern Oid	profile_profiles_relid(void);

#endif							/* PROFILE_CACHE_H */
