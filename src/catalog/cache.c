/*-------------------------------------------------------------------------
 *
 * src/catalog/cache.c
 *		Backend-local caches of tenants, access tokens, contracts and the
 *		roles marked by grant_admin, with invalidation.
 *
 * Design.  Every API call needs the caller's token, the tenant and the
 * tenant's required contract.  Reading them from the tables on each call
 * would cost three index probes, so each backend keeps what it has read in
 * hash tables in a memory context of its own (a child of
 * CacheMemoryContext), filled on a miss through saved SPI plans.
 *
 * Invalidation.  A statement trigger on each configuration table
 * (profile_data.invalidate_caches) calls CacheInvalidateRelcache on the
 * table it fires for.  PostgreSQL delivers that message to every backend
 * when the writing transaction commits (and to the writer itself at its
 * next command, or on abort), exactly as for its own catalog caches;
 * profile_relcache_callback then marks the caches stale.  The next API
 * call notices and starts from empty caches.  A relcache message for
 * InvalidOid (the shared queue overflowed) is treated the same way.  The
 * callback itself never frees memory: the stale context is handed to
 * TopTransactionContext, so pointers taken earlier in the same transaction
 * stay valid until it ends.
 *
 * Snapshots.  The caches are filled with the latest snapshot, whatever
 * the caller's isolation level: they outlive transactions, and a writer
 * that waited for a lock must see the settings committed meanwhile
 * (model/caller.c).
 *
 * Time.  Entries keep validity windows (token expiry, contract from/until)
 * rather than a yes/no answer, and each call evaluates them against its
 * own now(), so nothing goes stale with the passing of time.
 *
 * Bounds.  Only rows that exist are cached (an unknown token is a probe
 * per call, never an entry), so each table is bounded by its configuration
 * table and starts empty after every change.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base/crypto.h"
#include "base/spi.h"
#include "catalog/cache.h"
#include "core/pe_validate.h"

#define NAME_KEY_LEN 65			/* names are at most 64 bytes */

typedef struct TenantEntry
{
	char		name[NAME_KEY_LEN]; /* hash key */
	TenantInfo	info;
} TenantEntry;

typedef struct TokenEntry
{
	uint8		hash[32];		/* hash key: SHA-256 of the token */
	TokenInfo	info;
} TokenEntry;

typedef struct ContractKey
{
	int64		client_id;
	char		name[NAME_KEY_LEN];
} ContractKey;

typedef struct ContractWindow
{
	TimestampTz valid_from;
	TimestampTz valid_until;	/* DT_NOEND: open */
	bool		ended;
} ContractWindow;

typedef struct ContractEntry
{
	ContractKey key;
	int			n;
	ContractWindow *windows;
} ContractEntry;

/* The watched tables, in this order. */
static const char *const watched_names[] = {
	"tenants", "clients", "access_tokens", "contracts", "role_grants"
};
#define N_WATCHED lengthof(watched_names)

static MemoryContext cache_cxt = NULL;
static bool cache_valid = false;
static Oid	watched[N_WATCHED];
static Oid	profiles_relid = InvalidOid;
static HTAB *tenant_cache = NULL;
static HTAB *tenant_id_cache = NULL;	/* the same tenants, by id */
static HTAB *token_cache = NULL;
static HTAB *contract_cache = NULL;
static int	n_admin_roles = -1; /* -1: not loaded */
static Oid *admin_roles = NULL;
static int	n_claims_roles = -1;	/* -1: not loaded */
static Oid *claims_roles = NULL;
static HTAB *client_cache = NULL;

typedef struct TenantIdEntry
{
	int64		id;				/* hash key */
	const TenantInfo *info;		/* in tenant_cache, which never moves it */
} TenantIdEntry;

typedef struct ClientEntry
{
	char		name[NAME_KEY_LEN]; /* hash key */
	int64		id;
} ClientEntry;

static SavedPlan tenant_plan = {
	"SELECT id, settings FROM profile_data.tenants"
	" WHERE name OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

static SavedPlan token_plan = {
	"SELECT t.id, t.client_id, c.name, t.expires_at, t.revoked_at IS NOT NULL,"
	" CASE WHEN t.tenant_ids IS NOT NULL THEN COALESCE("
	"   (SELECT pg_catalog.array_agg(n.name ORDER BY n.name)"
	"      FROM profile_data.tenants n"
	"     WHERE n.id OPERATOR(pg_catalog.=) ANY (t.tenant_ids)),"
	"   '{}'::pg_catalog.text[]) END"
	" FROM profile_data.access_tokens t"
	" JOIN profile_data.clients c ON c.id OPERATOR(pg_catalog.=) t.client_id"
	" WHERE t.token_hash OPERATOR(pg_catalog.=) $1",
	1, {BYTEAOID}
};

static SavedPlan contract_plan = {
	"SELECT valid_from, valid_until, ended_at IS NOT NULL"
	" FROM profile_data.contracts"
	" WHERE client_id OPERATOR(pg_catalog.=) $1"
	" AND name OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, TEXTOID}
};

static SavedPlan marked_plan = {
	"SELECT role::pg_catalog.oid FROM profile_data.role_grants"
	" WHERE privilege OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

static SavedPlan tenant_name_plan = {
	"SELECT name FROM profile_data.tenants WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static SavedPlan version_plan = {
	"SELECT extversion FROM pg_catalog.pg_extension"
	" WHERE extname OPERATOR(pg_catalog.=) 'profile_ext'",
	0, {InvalidOid}
};

static SavedPlan client_plan = {
	"SELECT id FROM profile_data.clients WHERE name OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

/* Mark the caches stale when one of our tables changes. */
static void
profile_relcache_callback(Datum arg, Oid relid)
{
	if (!cache_valid)
		return;
	if (relid == InvalidOid)
	{
		cache_valid = false;
		return;
	}
	for (int i = 0; i < N_WATCHED; i++)
		if (watched[i] == relid)
		{
			cache_valid = false;
			return;
		}
}

/* Register the invalidation callback; once per backend, from _PG_init. */
void
profile_cache_init(void)
{
	CacheRegisterRelcacheCallback(profile_relcache_callback, (Datum) 0);
}

/*
 * The library works only with the schema of its own version.  Between
 * installing a new library and ALTER EXTENSION profile_ext UPDATE, calls
 * fail with a clear error rather than meet tables they do not know; the
 * update script itself (which may fire our triggers) is let through.  The
 * update changes our tables, so every backend checks again afterwards.
 * SPI must be connected.
 */
static void
check_schema_version(void)
{
	Oid			ext = get_extension_oid("profile_ext", true);
	char	   *version = NULL;

	if (creating_extension && CurrentExtensionObject == ext)
		return;
	profile_exec(&version_plan, NULL, NULL, true, 1);
	if (SPI_processed > 0)
		version = profile_spi_text(0, 1, "pg_extension");
	if (version == NULL || strcmp(version, PROFILE_EXT_VERSION) != 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("profile_ext %s is installed in this database, but the loaded library is version %s",
					   version ? version : "(none)", PROFILE_EXT_VERSION),
				errhint("Run ALTER EXTENSION profile_ext UPDATE."));
}

/*
 * Start of every API or admin call: make sure the caches are usable,
 * dropping them if an invalidation arrived since they were filled.
 */
void
profile_cache_begin(void)
{
	Oid			nsp;
	HASHCTL		ctl;

	if (cache_valid)
		return;

	if (cache_cxt != NULL)
	{
		/* keep earlier pointers valid until the transaction ends */
		MemoryContextSetParent(cache_cxt, TopTransactionContext);
		cache_cxt = NULL;
	}
	tenant_cache = tenant_id_cache = token_cache = contract_cache = NULL;
	n_admin_roles = n_claims_roles = -1;
	admin_roles = claims_roles = NULL;
	client_cache = NULL;

	nsp = get_namespace_oid("profile_data", true);
	if (!OidIsValid(nsp))
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("schema \"profile_data\" does not exist"),
				errhint("Run CREATE EXTENSION profile_ext."));
	for (int i = 0; i < N_WATCHED; i++)
		watched[i] = get_relname_relid(watched_names[i], nsp);
	profiles_relid = get_relname_relid("profiles", nsp);
	check_schema_version();

	cache_cxt = AllocSetContextCreate(CacheMemoryContext, "profile_ext cache",
									  ALLOCSET_SMALL_SIZES);

	memset(&ctl, 0, sizeof(ctl));
	ctl.hcxt = cache_cxt;
	ctl.keysize = NAME_KEY_LEN;
	ctl.entrysize = sizeof(TenantEntry);
	tenant_cache = hash_create("profile_ext tenants", 16, &ctl,
							   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(TenantIdEntry);
	tenant_id_cache = hash_create("profile_ext tenant ids", 16, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = 32;
	ctl.entrysize = sizeof(TokenEntry);
	token_cache = hash_create("profile_ext tokens", 16, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = sizeof(ContractKey);
	ctl.entrysize = sizeof(ContractEntry);
	contract_cache = hash_create("profile_ext contracts", 16, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = NAME_KEY_LEN;
	ctl.entrysize = sizeof(ClientEntry);
	client_cache = hash_create("profile_ext clients", 16, &ctl,
							   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	cache_valid = true;
}

static char **
text_array_to_cstrings(Datum array, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;

	deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		out[i] = nulls[i] ? pstrdup("") : TextDatumGetCString(elems[i]);
	return out;
}

const TenantInfo *
profile_lookup_tenant(const char *name, size_t len)
{
	char		key[NAME_KEY_LEN];
	TenantEntry *e;
	bool		found;
	Datum		arg;
	bool		isnull;
	MemoryContext old;
	FieldErrors errs;
	TenantInfo	info;

	if (len >= NAME_KEY_LEN || len == 0 || memchr(name, '\0', len))
		return NULL;
	memcpy(key, name, len);
	memset(key + len, 0, NAME_KEY_LEN - len);
	e = hash_search(tenant_cache, key, HASH_FIND, NULL);
	if (e)
		return &e->info;

	arg = PointerGetDatum(cstring_to_text_with_len(name, len));
	profile_exec_latest(&tenant_plan, &arg, NULL, true, 1);
	if (SPI_processed == 0)
		return NULL;

	old = MemoryContextSwitchTo(cache_cxt);
	memset(&errs, 0, sizeof(errs));
	profile_parse_settings(DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc,
														2, &isnull)),
						   &info, &errs, NULL);
	info.id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
	info.name = pnstrdup(name, len);
	MemoryContextSwitchTo(old);
	if (errs.count > 0)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("a row of table \"profile_data.tenants\" is damaged"),
				errdetail("The settings of tenant \"%s\" break a rule: %s %s.",
						  info.name, errs.items[0].field, errs.items[0].message));

	e = hash_search(tenant_cache, key, HASH_ENTER, &found);
	e->info = info;
	((TenantIdEntry *) hash_search(tenant_id_cache, &info.id, HASH_ENTER, &found))->info =
		&e->info;
	return &e->info;
}

const TokenInfo *
profile_lookup_token(const char *token, size_t len)
{
	bytea	   *hash = profile_token_hash(token, len);
	TokenEntry *e;
	Datum		arg;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	TokenInfo	info;
	Datum		d;
	MemoryContext old;

	e = hash_search(token_cache, VARDATA(hash), HASH_FIND, NULL);
	if (e)
		return &e->info;

	arg = PointerGetDatum(hash);
	profile_exec_latest(&token_plan, &arg, NULL, true, 1);
	if (SPI_processed == 0)
		return NULL;

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(cache_cxt);
	info.token_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	info.client_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	info.client_name = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
	d = SPI_getbinval(tup, desc, 4, &isnull);
	info.expires_at = isnull ? DT_NOEND : DatumGetTimestampTz(d);
	info.revoked = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
	d = SPI_getbinval(tup, desc, 6, &isnull);
	if (isnull)
	{
		/* NULL tenant_ids: any tenant */
		info.n_tenants = -1;
		info.tenants = NULL;
	}
	else
		info.tenants = text_array_to_cstrings(d, &info.n_tenants);
	MemoryContextSwitchTo(old);

	e = hash_search(token_cache, VARDATA(hash), HASH_ENTER, NULL);
	e->info = info;
	return &e->info;
}

bool
profile_contract_active(int64 client_id, const char *contract, TimestampTz now)
{
	ContractKey key;
	ContractEntry *e;
	bool		found;
	size_t		len = strlen(contract);

	if (len >= NAME_KEY_LEN)
		return false;
	memset(&key, 0, sizeof(key));
	key.client_id = client_id;
	memcpy(key.name, contract, len);

	e = hash_search(contract_cache, &key, HASH_FIND, NULL);
	if (e == NULL)
	{
		Datum		args[2];
		ContractWindow *w;
		int			n;

		args[0] = Int64GetDatum(client_id);
		args[1] = PointerGetDatum(cstring_to_text(contract));
		profile_exec_latest(&contract_plan, args, NULL, true, 0);
		n = (int) SPI_processed;
		w = MemoryContextAlloc(cache_cxt, sizeof(ContractWindow) * Max(n, 1));
		for (int i = 0; i < n; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			Datum		d;

			w[i].valid_from = DatumGetTimestampTz(SPI_getbinval(tup, desc, 1, &isnull));
			d = SPI_getbinval(tup, desc, 2, &isnull);
			w[i].valid_until = isnull ? DT_NOEND : DatumGetTimestampTz(d);
			w[i].ended = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		}
		e = hash_search(contract_cache, &key, HASH_ENTER, &found);
		e->n = n;
		e->windows = w;
	}

	for (int i = 0; i < e->n; i++)
	{
		const ContractWindow *w = &e->windows[i];

		if (!w->ended && w->valid_from <= now && now < w->valid_until)
			return true;
	}
	return false;
}

/* The roles marked with a privilege in profile_data.role_grants. */
static Oid *
marked_roles(const char *privilege, int *n)
{
	Datum		arg = CStringGetTextDatum(privilege);
	Oid		   *roles;

	profile_exec_latest(&marked_plan, &arg, NULL, true, 0);
	*n = (int) SPI_processed;
	roles = MemoryContextAlloc(cache_cxt, sizeof(Oid) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		bool		isnull;

		roles[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
												  SPI_tuptable->tupdesc, 1, &isnull));
	}
	return roles;
}

static bool
has_privs_of_any(Oid roleid, const Oid *roles, int n)
{
	for (int i = 0; i < n; i++)
		if (has_privs_of_role(roleid, roles[i]))
			return true;
	return false;
}

/* Is roleid a role marked by profile.grant_admin, or a member of one? */
bool
profile_is_admin_role(Oid roleid)
{
	if (n_admin_roles < 0)
		admin_roles = marked_roles("admin", &n_admin_roles);
	return has_privs_of_any(roleid, admin_roles, n_admin_roles);
}

/* Is roleid a role marked by profile.trust_claims, or a member of one? */
bool
profile_trusts_claims(Oid roleid)
{
	if (n_claims_roles < 0)
		claims_roles = marked_roles("claims", &n_claims_roles);
	return has_privs_of_any(roleid, claims_roles, n_claims_roles);
}

/* The id of the client of that name, or -1. */
int64
profile_lookup_client(const char *name, size_t len)
{
	char		key[NAME_KEY_LEN];
	ClientEntry *e;
	Datum		arg;
	bool		isnull;

	if (len >= NAME_KEY_LEN || len == 0 || memchr(name, '\0', len))
		return -1;
	memcpy(key, name, len);
	memset(key + len, 0, NAME_KEY_LEN - len);
	e = hash_search(client_cache, key, HASH_FIND, NULL);
	if (e)
		return e->id;
	arg = PointerGetDatum(cstring_to_text_with_len(name, len));
	profile_exec_latest(&client_plan, &arg, NULL, true, 1);
	if (SPI_processed == 0)
		return -1;
	e = hash_search(client_cache, key, HASH_ENTER, NULL);
	e->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	return e->id;
}

/* The OID of profile_data.tenants (changes when the extension is re-created). */
Oid
profile_tenants_relid(void)
{
	return watched[0];
}

/* profile_data.profiles, as of the last profile_cache_begin. */
Oid
profile_profiles_relid(void)
{
	return profiles_relid;
}

/*
 * The tenant whose id a stored row names.  NULL if no tenant has that id;
 * a tenant whose stored name breaks the name rule (possible only behind
 * the extension's back) is reported, never looked up.
 */
const TenantInfo *
profile_tenant_by_id(int64 tenant_id)
{
	Datum		arg = Int64GetDatum(tenant_id);
	char	   *name;
	TenantIdEntry *e = hash_search(tenant_id_cache, &tenant_id, HASH_FIND, NULL);

	if (e)
		return e->info;
	profile_exec_latest(&tenant_name_plan, &arg, NULL, true, 1);
	if (SPI_processed == 0)
		return NULL;
	name = profile_spi_text(0, 1, "tenants");
	if (pe_check_name(name, strlen(name)) != NULL)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("a row of table \"profile_data.tenants\" is damaged"),
				errdetail("The name of tenant " INT64_FORMAT " is not 1 to 64 of a-z, 0-9, . _ -.",
						  tenant_id));
	return profile_lookup_tenant(name, strlen(name));
}

/*
 * Act as the data owner (spi.c) with usable caches: most callers want both.
 * The caller's memory context stays current, whatever filling the caches
 * ran through SPI.
 */
void
profile_begin_as_owner(OwnerSection *s)
{
	MemoryContext cxt = CurrentMemoryContext;

	profile_owner_begin(s);
	profile_cache_begin();
	MemoryContextSwitchTo(cxt);
}

PG_FUNCTION_INFO_V1(invalidate_caches);

/*
 * profile_data.invalidate_caches(): AFTER ... FOR EACH STATEMENT on the
 * configuration tables: tell every backend (at commit) that its cached
 * tenants, tokens and contracts are stale.  On Citus the trigger fires for
 * a node's copy of a reference table (profile_data.tenants_102008), in the
 * coordinator's own backend for its copy: the message is for the table
 * the caches watch.
 */
Datum
invalidate_caches(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	Oid			base;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "invalidate_caches: not called as a trigger");
	rel = td->tg_relation;
	CacheInvalidateRelcache(rel);
	base = get_relname_relid(profile_unshard_name(RelationGetRelationName(rel)),
							 RelationGetNamespace(rel));
	if (OidIsValid(base) && base != RelationGetRelid(rel))
		CacheInvalidateRelcacheByRelid(base);
	return PointerGetDatum(NULL);
}
