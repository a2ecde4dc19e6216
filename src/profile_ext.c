/*-------------------------------------------------------------------------
 *
 * src/profile_ext.c
 *		Module entry point: settings (GUCs), libsodium, cache callbacks.
 *
 * The library must be in shared_preload_libraries: the rate limiter keeps
 * its state in shared memory (src/ratelimit.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sodium.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "profile_ext.h"

PG_MODULE_MAGIC;

int			profile_password_opslimit = 2;
int			profile_password_memlimit_kb = 65536;

void		_PG_init(void);

void
_PG_init(void)
{
	if (sodium_init() < 0)
		ereport(ERROR,
				errcode(ERRCODE_SYSTEM_ERROR),
				errmsg("could not initialize libsodium"));

	DefineCustomIntVariable("profile_ext.password_opslimit",
							"Argon2id time cost (passes) for new password hashes.",
							"Stored hashes keep the cost they were made with.",
							&profile_password_opslimit,
							2, 1, 64,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("profile_ext.password_memlimit",
							"Argon2id memory cost for new password hashes.",
							"Stored hashes keep the cost they were made with.",
							&profile_password_memlimit_kb,
							65536, 8, 4194304,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	/* postmaster settings can only be made while preloading */
	profile_rate_limit_init();
	MarkGUCPrefixReserved("profile_ext");

	profile_cache_init();
}
