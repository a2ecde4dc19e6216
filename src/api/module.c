/*-------------------------------------------------------------------------
 *
 * src/api/module.c
 *		Module entry point: each module's settings, hooks and callbacks.
 *
 * The library must be in shared_preload_libraries: the rate limiter keeps
 * its state in shared memory (catalog/ratelimit.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "audit/audit.h"
#include "base/crypto.h"
#include "base/spi.h"
#include "catalog/cache.h"
#include "api/rowcheck.h"
#include "catalog/ratelimit.h"
#include "compat.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	profile_crypto_init();
	profile_spi_init();
	profile_cache_init();
	profile_audit_init();
	profile_rowcheck_init();
	/* postmaster settings can only be made while preloading */
	profile_rate_limit_init();
	MarkGUCPrefixReserved("profile_ext");
}
