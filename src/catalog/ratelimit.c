/*-------------------------------------------------------------------------
 *
 * src/catalog/ratelimit.c
 *		Rate limits per client and tenant, shared by every backend
 *		(README, "Rate limits").
 *
 * Design.  Every authenticated attempt counts, including ones that later
 * fail validation or roll back, so the state cannot live in tables (it
 * would roll back with the caller) and must be seen by every backend: it
 * lives in shared memory, which needs shared_preload_libraries =
 * 'profile_ext'.  Without it, API calls fail with a clear error and hint,
 * as pg_stat_statements does.
 *
 * Limits.  Each (client, tenant) has two token buckets: the burst bucket
 * holds per_second tokens and refills at per_second per second; the steady
 * bucket holds per_minute tokens and refills at per_minute per minute.  A
 * call takes one token from each; if either is empty it is refused with
 * RATE_LIMITED and retry_after, the whole seconds until both have a token.
 * So a client can make per_second calls at once, and over any interval of
 * T seconds at most per_second * (1 + T) and per_minute * (1 + T / 60)
 * calls.  0 means that limit is off.  The admin principal is never
 * limited.
 *
 * Memory.  One fixed-size hash table of profile_ext.rate_limit_entries
 * slots (default 10000) per database, for up to
 * profile_ext.rate_limit_databases databases at once (default 4), all
 * under one LWLock held for a few hundred nanoseconds per call.  A
 * database takes a free table on its first limited call and keeps it while
 * any of its clients called in the last minute; then the table may go to
 * another database (its buckets have all refilled, so dropping them loses
 * nothing).  So the callers of one database never take another database's
 * slots.  Within a table, when it is full, slots idle for a minute or more
 * are dropped for the same reason.  If every slot was used in the last
 * minute (or every table is held by a busy database), a new (client,
 * tenant) is refused (RATE_LIMITED, retry after 1 s) rather than let
 * through unlimited, and the server log says so once per episode, not once
 * per call.  A server restart starts from empty tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base/errors.h"
#include "catalog/cache.h"
#include "catalog/ratelimit.h"

/*
 * The database and the tenants table's OID come first: every database of
 * the cluster shares the table, and ids start again when the extension is
 * re-created (with a new tenants table).
 */
typedef struct RateKey
{
	Oid			dbid;
	Oid			generation;
	int64		client_id;
	int64		tenant_id;
} RateKey;

typedef struct RateEntry
{
	RateKey		key;
	double		burst;			/* tokens in the per-second bucket */
	double		steady;			/* tokens in the per-minute bucket */
	TimestampTz last;			/* when the buckets were last refilled */
} RateEntry;

/* One database's table. */
typedef struct RatePartition
{
	Oid			dbid;			/* InvalidOid: free */
	TimestampTz last;			/* the database's latest limited call */
	bool		full_reported;	/* "table is full" logged this episode */
} RatePartition;

typedef struct RateShared
{
	LWLock	   *lock;
	bool		busy_reported;	/* "no table free" logged this episode */
	RatePartition parts[FLEXIBLE_ARRAY_MEMBER];
} RateShared;

static int	rate_limit_entries = 10000;
static int	rate_limit_databases = 4;

static RateShared *rate_shared = NULL;
static HTAB **rate_tables = NULL;	/* this backend's handles, by partition */
static int	my_partition = -1;	/* the last partition this backend used */
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif

#define IDLE_USECS (60 * USECS_PER_SEC)

static Size
rate_memsize(void)
{
	Size		size = add_size(offsetof(RateShared, parts),
								mul_size(rate_limit_databases, sizeof(RatePartition)));

	return add_size(MAXALIGN(size),
					mul_size(rate_limit_databases,
							 hash_estimate_size(rate_limit_entries, sizeof(RateEntry))));
}

static void
rate_shmem_request(void)
{
#if PG_VERSION_NUM >= 150000
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(rate_memsize());
	RequestNamedLWLockTranche("profile_ext", 1);
}

static void
rate_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rate_shared = ShmemInitStruct("profile_ext rate limits",
								  offsetof(RateShared, parts) +
								  sizeof(RatePartition) * rate_limit_databases,
								  &found);
	if (!found)
	{
		rate_shared->lock = &(GetNamedLWLockTranche("profile_ext"))->lock;
		rate_shared->busy_reported = false;
		memset(rate_shared->parts, 0, sizeof(RatePartition) * rate_limit_databases);
	}
	rate_tables = MemoryContextAllocZero(TopMemoryContext,
										 sizeof(HTAB *) * rate_limit_databases);
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(RateKey);
	info.entrysize = sizeof(RateEntry);
	for (int i = 0; i < rate_limit_databases; i++)
	{
		char		name[64];

		snprintf(name, sizeof(name), "profile_ext rate limit table %d", i);
		rate_tables[i] = ShmemInitHash(name,
									   rate_limit_entries, rate_limit_entries,
									   &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* From _PG_init, when loaded by shared_preload_libraries. */
void
profile_rate_limit_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("profile_ext.rate_limit_entries",
							"Slots of each database's rate limit table, one per active client and tenant.",
							NULL,
							&rate_limit_entries,
							10000, 100, 10000000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("profile_ext.rate_limit_databases",
							"Databases whose callers can be rate-limited at once, each with a table of its own.",
							NULL,
							&rate_limit_databases,
							4, 1, 1000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rate_shmem_request;
#else
	rate_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rate_shmem_startup;
}

/* Fail clearly unless the library was preloaded. */
void
profile_require_preload(void)
{
	if (rate_shared == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("profile_ext must be loaded via \"shared_preload_libraries\""),
				errhint("Add profile_ext to shared_preload_libraries in postgresql.conf and restart the server."));
}

/* Refill a bucket of capacity cap at cap per window over elapsed. */
static double
refill(double tokens, int32 cap, double elapsed_s, double window_s)
{
	return Min((double) cap, tokens + elapsed_s * cap / window_s);
}

/* Drop the slots idle for a minute or more; the lock is held exclusively. */
static int
evict_idle(HTAB *table, TimestampTz now, bool all)
{
	HASH_SEQ_STATUS seq;
	RateEntry  *e;
	int			n = 0;

	hash_seq_init(&seq, table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (all || now - e->last >= IDLE_USECS)
		{
			hash_search(table, &e->key, HASH_REMOVE, NULL);
			n++;
		}
	}
	return n;
}

/*
 * This database's table: the one it holds, or a free one, or one whose
 * database has been idle for a minute (emptied first).  -1 if every table
 * is held by a database that is busy.  The lock is held exclusively.
 */
static int
my_table(TimestampTz now)
{
	int			candidate = -1;

	if (my_partition >= 0 && rate_shared->parts[my_partition].dbid == MyDatabaseId)
		return my_partition;
	for (int i = 0; i < rate_limit_databases; i++)
	{
		RatePartition *p = &rate_shared->parts[i];

		if (p->dbid == MyDatabaseId)
			return my_partition = i;
		if (candidate < 0 &&
			(p->dbid == InvalidOid || now - p->last >= IDLE_USECS))
			candidate = i;
	}
	if (candidate < 0)
		return -1;
	if (rate_shared->parts[candidate].dbid != InvalidOid)
		evict_idle(rate_tables[candidate], now, true);
	rate_shared->parts[candidate].dbid = MyDatabaseId;
	rate_shared->parts[candidate].full_reported = false;
	return my_partition = candidate;
}

/*
 * Take one call from the (client, tenant) budget, or raise RATE_LIMITED.
 * Uses the wall clock, not the transaction's start: the limits are about
 * real time, whatever the caller's transaction does.  The admin principal
 * is never limited: the caller does not ask.
 */
void
profile_rate_limit(int64 client_id, const char *client, const TenantInfo *t,
				   const pg_uuid_t *trace_id)
{
	RateKey		key;
	RateEntry  *e = NULL;
	bool		found;
	TimestampTz now;
	double		wait = 0;
	int			part;
	const char *report = NULL;

	if (t->per_second == 0 && t->per_minute == 0)
		return;
	profile_require_preload();

	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.generation = profile_tenants_relid();
	key.client_id = client_id;
	key.tenant_id = t->id;
	now = GetCurrentTimestamp();

	LWLockAcquire(rate_shared->lock, LW_EXCLUSIVE);
	part = my_table(now);
	if (part < 0)
	{
		if (!rate_shared->busy_reported)
			report = "every rate limit table is held by another busy database";
		rate_shared->busy_reported = true;
	}
	else
	{
		HTAB	   *table = rate_tables[part];

		rate_shared->busy_reported = false;
		rate_shared->parts[part].last = now;
		e = hash_search(table, &key, HASH_ENTER_NULL, &found);
		if (e == NULL && evict_idle(table, now, false) > 0)
			e = hash_search(table, &key, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			if (!rate_shared->parts[part].full_reported)
				report = "the rate limit table of this database is full";
			rate_shared->parts[part].full_reported = true;
		}
		else
			rate_shared->parts[part].full_reported = false;
	}
	if (e == NULL)
	{
		LWLockRelease(rate_shared->lock);
		if (report)
			ereport(LOG,
					errmsg("%s: new clients are refused", report),
					errhint("Raise profile_ext.rate_limit_entries or profile_ext.rate_limit_databases."));
		profile_raise_rate_limited(trace_id, 1,
								   "too many requests for client \"%s\" in tenant \"%s\"",
								   client, t->name);
	}
	if (!found)
	{
		e->burst = t->per_second;
		e->steady = t->per_minute;
	}
	else
	{
		double		elapsed = (double) Max(now - e->last, 0) / USECS_PER_SEC;

		e->burst = refill(e->burst, t->per_second, elapsed, 1.0);
		e->steady = refill(e->steady, t->per_minute, elapsed, 60.0);
	}
	e->last = now;
	if (t->per_second > 0 && e->burst < 1.0)
		wait = Max(wait, (1.0 - e->burst) / t->per_second);
	if (t->per_minute > 0 && e->steady < 1.0)
		wait = Max(wait, (1.0 - e->steady) * 60.0 / t->per_minute);
	if (wait == 0)
	{
		if (t->per_second > 0)
			e->burst -= 1.0;
		if (t->per_minute > 0)
			e->steady -= 1.0;
	}
	LWLockRelease(rate_shared->lock);

	if (wait > 0)
		profile_raise_rate_limited(trace_id, (int) ceil(wait),
								   "too many requests for client \"%s\" in tenant \"%s\"",
								   client, t->name);
}
