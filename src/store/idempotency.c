/*-------------------------------------------------------------------------
 *
 * src/store/idempotency.c
 *		Idempotency keys: a retried call gets the first call's result
 *		(README, "Idempotent calls").
 *
 * A call with a key claims it first, with an INSERT ... ON CONFLICT DO
 * NOTHING into profile_data.idempotency_keys keyed by (tenant, client,
 * function, key), in the call's own transaction.  Claimed: the call runs
 * and, at its end, keeps its result in the row, so the result and the
 * profiles it made commit together; a call that fails rolls the claim back
 * with everything else, keeping nothing.  Not claimed: another call with
 * the key committed (a running one is waited for by the unique index, and
 * then replayed, or the key is free again if it rolled back), and this one
 * is a replay -- the stored result, with "replayed": true -- if its request
 * is the same, else IDEMPOTENCY_MISMATCH.  Keys expire after the tenant's
 * idempotency_ttl: an expired row is claimed anew, and each new claim
 * removes a few expired rows of its tenant, so no scheduler is needed
 * (profile.purge_idempotency_keys does it all at once, for pg_cron).
 *
 * The same request.  What is compared is a SHA-256 over the request's
 * canonical form (jsonb's, with its keys sorted) without the access token,
 * the tenant, the key -- and without the password values, whose presence
 * alone it covers.  A hash of a request that held a password would let
 * anyone who reads the table test guesses of that password offline, at
 * the speed of SHA-256.  The passwords are compared instead against
 * Argon2id hashes kept in the row (the profile's own, for an item that
 * made one), which cost what the profile's password hash costs to attack.
 *
 * Stored results hold personal values: erasing a profile removes every
 * row whose result shows it (profile_idempotency_forget).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sodium.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "base/crypto.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/postgrest.h"
#include "store/idempotency.h"

static SavedPlan claim_plan = {
	"INSERT INTO profile_data.idempotency_keys"
	" (tenant_id, client, function, key, request_hash, created_at, expires_at)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
	7, {INT8OID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static SavedPlan lookup_plan = {
	"SELECT request_hash, result, http_status, expires_at, password_hashes"
	"  FROM profile_data.idempotency_keys"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND client OPERATOR(pg_catalog.=) $2"
	"   AND function OPERATOR(pg_catalog.=) $3 AND key OPERATOR(pg_catalog.=) $4",
	4, {INT8OID, TEXTOID, TEXTOID, TEXTOID}
};

static SavedPlan renew_plan = {
	"UPDATE profile_data.idempotency_keys"
	"   SET request_hash = $5, result = NULL, http_status = NULL, profile_ids = '{}',"
	"       password_hashes = NULL, created_at = $6, expires_at = $7"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND client OPERATOR(pg_catalog.=) $2"
	"   AND function OPERATOR(pg_catalog.=) $3 AND key OPERATOR(pg_catalog.=) $4"
	"   AND expires_at OPERATOR(pg_catalog.<=) $6",
	7, {INT8OID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static SavedPlan keep_plan = {
	"UPDATE profile_data.idempotency_keys"
	"   SET result = $5, http_status = $6, profile_ids = $7, password_hashes = $8"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND client OPERATOR(pg_catalog.=) $2"
	"   AND function OPERATOR(pg_catalog.=) $3 AND key OPERATOR(pg_catalog.=) $4",
	8, {INT8OID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, INT4OID, UUIDARRAYOID, TEXTARRAYOID}
};

static SavedPlan purge_plan = {
	"DELETE FROM profile_data.idempotency_keys"
	" WHERE (tenant_id, client, function, key) OPERATOR(pg_catalog.=) ANY ("
	"   SELECT tenant_id, client, function, key FROM profile_data.idempotency_keys"
	"    WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND expires_at OPERATOR(pg_catalog.<=) $2"
	"    LIMIT $3)",
	3, {INT8OID, TIMESTAMPTZOID, INT8OID}
};

static SavedPlan purge_all_plan = {
	"DELETE FROM profile_data.idempotency_keys"
	" WHERE expires_at OPERATOR(pg_catalog.<=) $1"
	"   AND ($2 IS NULL OR tenant_id OPERATOR(pg_catalog.=) $2)",
	2, {TIMESTAMPTZOID, INT8OID}
};

static SavedPlan forget_plan = {
	"DELETE FROM profile_data.idempotency_keys"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"   AND profile_ids OPERATOR(pg_catalog.@>) ARRAY[$2]",
	2, {INT8OID, UUIDOID}
};

/* Expired keys a new claim removes along the way. */
#define PURGE_ALONG 8

static const PeRule key_rule = {"format", "must be 1 to 255 printable ASCII characters"};

static bool
key_ok(const char *s, size_t len)
{
	if (len < 1 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/*
 * The call's key, from the payload's idempotencyKey or PostgREST's
 * Idempotency-Key header; VALIDATION_FAILED for a malformed one, or two that
 * differ.  idem->key stays NULL without one.
 */
static void
profile_idempotency_read(ApiCall *ctx, const ProfileInput *in, const char *function,
						 Idempotency *idem)
{
	char	   *header = profile_request_header("idempotency-key");
	char	   *payload_key = NULL;
	FieldErrors errs = {0};

	memset(idem, 0, sizeof(*idem));
	idem->function = function;
	if (in->present[PE_F_IDEMPOTENCY_KEY])
	{
		const JsonbValue *v = &in->raw[PE_F_IDEMPOTENCY_KEY];

		if (v->type != jbvString)
			profile_add_error(&errs, "idempotencyKey", "type", "must be a string");
		else if (!key_ok(v->val.string.val, v->val.string.len))
			profile_add_rule(&errs, "idempotencyKey", &key_rule);
		else
			payload_key = pnstrdup(v->val.string.val, v->val.string.len);
	}
	else if (in->cleared[PE_F_IDEMPOTENCY_KEY])
		profile_add_error(&errs, "idempotencyKey", "type", "must be a string");
	if (header && !key_ok(header, strlen(header)))
		profile_add_error(&errs, "idempotencyKey", "format",
						  "the Idempotency-Key header must be 1 to 255 printable ASCII characters");
	if (errs.count == 0 && header && payload_key && strcmp(header, payload_key) != 0)
		profile_add_error(&errs, "idempotencyKey", "conflict",
						  "differs from the Idempotency-Key header");
	if (errs.count > 0)
		profile_raise_validation(&ctx->trace_id, &errs);
	idem->key = payload_key ? payload_key : header;
}

/* The request keys the comparison leaves out. */
static bool
left_out(const JsonbValue *k)
{
	static const char *const keys[] = {
		"accessTokenId", "access_token", "tenantName", "tenant", "idempotencyKey"
	};

	for (int i = 0; i < lengthof(keys); i++)
		if (k->val.string.len == strlen(keys[i]) &&
			memcmp(k->val.string.val, keys[i], k->val.string.len) == 0)
			return true;
	return false;
}

static bool
is_key(const JsonbValue *k, const char *name)
{
	return k->val.string.len == strlen(name) &&
		memcmp(k->val.string.val, name, k->val.string.len) == 0;
}

/* One more entry of the passwords: the request's password, or NULL. */
static void
add_password(Idempotency *idem, char *password)
{
	if (idem->n_passwords >= idem->max_passwords)
		elog(ERROR, "idempotency: more passwords than profiles in the request");
	idem->passwords[idem->n_passwords++] = password;
}

/*
 * Push an object's members but its password, which becomes true; its
 * value goes to the passwords (NULL if none; an item without one adds
 * NULL).  batch: the request is create_profiles', whose "profiles" are
 * its items; to any other function that key is an unknown one like any.
 */
static JsonbValue *
push_without_password(JsonbParseState **st, JsonbContainer *obj, Idempotency *idem,
					  bool top, bool batch)
{
	JsonbValue *res;
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	char	   *password = NULL;

	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &v, true);
		CHECK_FOR_INTERRUPTS();
		if (top && left_out(&k))
			continue;
		pushJsonbValue(st, WJB_KEY, &k);
		if (is_key(&k, "password") && v.type == jbvString)
		{
			JsonbValue	t;

			password = pnstrdup(v.val.string.val, v.val.string.len);
			t.type = jbvBool;
			t.val.boolean = true;
			pushJsonbValue(st, WJB_VALUE, &t);
		}
		else if (top && batch && is_key(&k, "profiles") && v.type == jbvBinary &&
				 JsonContainerIsArray(v.val.binary.data))
		{
			JsonbIterator *ai = JsonbIteratorInit(v.val.binary.data);
			JsonbValue	e;

			pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
			while ((tok = JsonbIteratorNext(&ai, &e, true)) != WJB_DONE)
			{
				if (tok != WJB_ELEM)
					continue;
				CHECK_FOR_INTERRUPTS();
				if (e.type == jbvBinary && JsonContainerIsObject(e.val.binary.data))
					push_without_password(st, e.val.binary.data, idem, false, false);
				else
				{
					pushJsonbValue(st, WJB_ELEM, &e);
					add_password(idem, NULL);
				}
			}
			pushJsonbValue(st, WJB_END_ARRAY, NULL);
		}
		else
			pushJsonbValue(st, WJB_VALUE, &v);
	}
	res = pushJsonbValue(st, WJB_END_OBJECT, NULL);
	if (!top || idem->n_passwords == 0)
		add_password(idem, password);
	return res;
}

/*
 * The request's hash, for the comparison of a replay: the payload without
 * what is left out and without password values (see the banner), plus
 * extra (register_user_profile's id argument).  Items: how many profiles
 * the request holds (1, or the batch's size), for the passwords.
 */
static void
profile_idempotency_hash(Idempotency *idem, Jsonb *payload, int items,
						 const pg_uuid_t *extra)
{
	JsonbParseState *st = NULL;
	Jsonb	   *canonical;
	char	   *text;
	crypto_hash_sha256_state h;
	static const char tag[] = "profile_ext idempotent request v1";

	idem->max_passwords = items + 1;
	idem->passwords = palloc0(sizeof(char *) * idem->max_passwords);
	idem->password_hashes = palloc0(sizeof(char *) * idem->max_passwords);
	idem->n_passwords = 0;
	canonical = JsonbValueToJsonb(push_without_password(&st, &payload->root, idem, true,
														strcmp(idem->function, "create_profiles") == 0));
	text = JsonbToCString(NULL, &canonical->root, VARSIZE(canonical));

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8 *) tag, sizeof(tag));
	crypto_hash_sha256_update(&h, (const uint8 *) idem->function, strlen(idem->function) + 1);
	if (extra)
		crypto_hash_sha256_update(&h, extra->data, UUID_LEN);
	crypto_hash_sha256_update(&h, (const uint8 *) text, strlen(text));
	crypto_hash_sha256_final(&h, idem->request_hash);
}

static void
key_args(const ApiCall *ctx, const Idempotency *idem, Datum *args)
{
	args[0] = Int64GetDatum(ctx->tenant->id);
	args[1] = CStringGetTextDatum(ctx->client);
	args[2] = CStringGetTextDatum(idem->function);
	args[3] = CStringGetTextDatum(idem->key);
}

/* now + the tenant's idempotency_ttl */
static TimestampTz
expiry(const ApiCall *ctx)
{
	Datum		ttl = DirectFunctionCall3(interval_in, CStringGetDatum(ctx->tenant->idempotency_ttl),
										  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));

	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												   TimestampTzGetDatum(ctx->now), ttl));
}

/* How many of the request's items have a password. */
static int
count_passwords(const Idempotency *idem)
{
	int			p = 0;

	for (int i = 0; i < idem->n_passwords; i++)
		p += idem->passwords[i] != NULL;
	return p;
}

/*
 * A request's passwords as one text: each with its item and its length, so
 * that no two requests give the same text.  For the one Argon2id hash kept
 * of a request with several (a retry then costs one verification, not one
 * per item).  *len: its length.
 */
static char *
joined_passwords(const Idempotency *idem, size_t *len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < idem->n_passwords; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (idem->passwords[i] == NULL)
			continue;
		appendStringInfo(&buf, "%d:%zu:", i, strlen(idem->passwords[i]));
		appendStringInfoString(&buf, idem->passwords[i]);
	}
	*len = buf.len;
	return buf.data;
}

/*
 * Do the request's passwords match the Argon2id hashes kept of the first?
 * One password: its hash, by item; several: the one hash of them all.
 */
static bool
passwords_match(const Idempotency *idem, Datum stored, bool isnull)
{
	Datum	   *hashes = NULL;
	bool	   *nulls = NULL;
	int			n = 0;

	if (!isnull)
		deconstruct_array(DatumGetArrayTypeP(stored), TEXTOID, -1, false, TYPALIGN_INT,
						  &hashes, &nulls, &n);
	if (count_passwords(idem) > 1)
	{
		size_t		len;
		char	   *joined;
		bool		ok;

		if (n != 1 || nulls[0])
			return false;
		joined = joined_passwords(idem, &len);
		ok = crypto_pwhash_str_verify(TextDatumGetCString(hashes[0]), joined, len) == 0;
		sodium_memzero(joined, len);
		return ok;
	}
	for (int i = 0; i < idem->n_passwords; i++)
	{
		char	   *hash;

		CHECK_FOR_INTERRUPTS();
		if (idem->passwords[i] == NULL)
			continue;
		if (i >= n || nulls[i])
			return false;
		hash = TextDatumGetCString(hashes[i]);
		if (crypto_pwhash_str_verify(hash, idem->passwords[i], strlen(idem->passwords[i])) != 0)
			return false;
	}
	return true;
}

static void raise_concurrent_use(void) pg_attribute_noreturn();

/* The key's row changed under the call: the transaction is to be retried. */
static void
raise_concurrent_use(void)
{
	ereport(ERROR,
			errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			errmsg("could not serialize access due to a concurrent use of idempotency key"),
			errhint("Retry the transaction."));
}

/*
 * Claim the call's key (see the banner).  NULL: the call is the first with
 * it, and runs; else the first call's result to replay, with "replayed":
 * true, and its HTTP status in *status.  IDEMPOTENCY_MISMATCH if the
 * request differs.  SPI must be connected.
 */
static Jsonb *
profile_idempotency_claim(ApiCall *ctx, Idempotency *idem, int *status)
{
	Datum		args[7];
	TimestampTz expires = expiry(ctx);
	bool		isnull;
	const uint8 *stored;
	Datum		result;
	Datum		hashes;

	key_args(ctx, idem, args);
	args[4] = PointerGetDatum(profile_bytea(idem->request_hash, sizeof(idem->request_hash)));
	args[5] = TimestampTzGetDatum(ctx->now);
	args[6] = TimestampTzGetDatum(expires);
	profile_exec(&claim_plan, args, NULL, false, 0);
	if (SPI_processed == 1)
	{
		/* a new key: clear a few expired ones of the tenant on the way */
		Datum		pargs[3];

		pargs[0] = Int64GetDatum(ctx->tenant->id);
		pargs[1] = TimestampTzGetDatum(ctx->now);
		pargs[2] = Int64GetDatum(PURGE_ALONG);
		profile_exec(&purge_plan, pargs, NULL, false, 0);
		return NULL;
	}

	/* taken, by a call that committed (a running one was waited for) */
	profile_exec(&lookup_plan, args, NULL, false, 1);
	if (SPI_processed == 0)
		raise_concurrent_use();
	if (DatumGetTimestampTz(profile_spi_required(0, 4, "idempotency_keys")) <= ctx->now)
	{
		profile_exec(&renew_plan, args, NULL, false, 0);
		if (SPI_processed == 1)
			return NULL;
		raise_concurrent_use();
	}
	stored = profile_spi_hash_required(0, 1, "idempotency_keys");
	hashes = profile_spi_value(0, 5, &isnull);
	if (memcmp(stored, idem->request_hash, sizeof(idem->request_hash)) != 0 ||
		!passwords_match(idem, hashes, isnull))
		profile_raise(PE_E_IDEMPOTENCY_MISMATCH, &ctx->trace_id, NULL, NULL,
					  "the idempotency key was used with another request");
	result = profile_spi_value(0, 2, &isnull);
	if (isnull)
		raise_concurrent_use();
	*status = DatumGetInt32(profile_spi_required(0, 3, "idempotency_keys"));
	/* the stored result, and "replayed": true */
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, result,
											  DirectFunctionCall1(jsonb_in,
																  CStringGetDatum("{\"replayed\": true}"))));
}

/*
 * The start of a call that may carry an idempotency key: read the key,
 * resolve the caller, and claim the key.  NULL: the call runs (and has now
 * been rate-limited); else the first call's result to replay, the call
 * ended (a replay is not rate-limited).  items and extra: as for
 * profile_idempotency_hash.
 */
Jsonb	   *
profile_idempotency_begin(ApiCall *ctx, const ProfileInput *in, const char *function,
						  Idempotency *idem, Jsonb *payload, int items,
						  const pg_uuid_t *extra)
{
	Jsonb	   *result;
	int			status;

	profile_idempotency_read(ctx, in, function, idem);
	ctx->defer_rate_limit = idem->key != NULL;
	profile_resolve_caller(ctx, in);
	if (idem->key == NULL)
		return NULL;
	profile_idempotency_hash(idem, payload, items, extra);
	result = profile_idempotency_claim(ctx, idem, &status);
	if (result == NULL)
	{
		profile_call_rate_limit(ctx);
		return NULL;
	}
	ctx->http_status = status;
	profile_call_end(ctx);
	return result;
}

/*
 * Keep the result of the call that claimed the key, with the profiles it
 * shows and the Argon2id hashes of the request's passwords: of one, its
 * hash by item (idem->password_hashes: set by the caller where the
 * profile was made, made here otherwise); of several, one hash of them all
 * (joined_passwords).
 */
void
profile_idempotency_keep(ApiCall *ctx, Idempotency *idem, Jsonb *result, int status,
						 const pg_uuid_t *ids, int n)
{
	Datum		args[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *hashes = palloc(sizeof(Datum) * Max(idem->n_passwords, 1));
	bool	   *hnulls = palloc(sizeof(bool) * Max(idem->n_passwords, 1));
	bool		any = false;
	int			dims[1];
	int			lbs[1] = {1};

	key_args(ctx, idem, args);
	args[4] = JsonbPGetDatum(result);
	args[5] = Int32GetDatum(status);
	for (int i = 0; i < n; i++)
		elems[i] = UUIDPGetDatum(&ids[i]);
	args[6] = PointerGetDatum(construct_array(elems, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	if (count_passwords(idem) > 1)
	{
		size_t		len;
		char	   *joined = joined_passwords(idem, &len);

		hashes[0] = CStringGetTextDatum(profile_hash_password(joined, len));
		hnulls[0] = false;
		sodium_memzero(joined, len);
		any = true;
		dims[0] = 1;
	}
	else
	{
		for (int i = 0; i < idem->n_passwords; i++)
		{
			const char *h = idem->password_hashes[i];

			if (idem->passwords[i] != NULL && h == NULL)
				h = profile_hash_password(idem->passwords[i], strlen(idem->passwords[i]));
			hnulls[i] = h == NULL;
			hashes[i] = h ? CStringGetTextDatum(h) : (Datum) 0;
			any |= h != NULL;
		}
		dims[0] = idem->n_passwords;
	}
	if (any)
		args[7] = PointerGetDatum(construct_md_array(hashes, hnulls, 1, dims, lbs,
													 TEXTOID, -1, false, TYPALIGN_INT));
	else
	{
		args[7] = (Datum) 0;
		nulls[7] = 'n';
	}
	profile_exec(&keep_plan, args, nulls, false, 0);
	if (SPI_processed != 1)
		elog(ERROR, "idempotency key claimed by this call is gone");
}

/* An erased profile takes the stored results that show it. */
void
profile_idempotency_forget(int64 tenant_id, const pg_uuid_t *profile_id)
{
	Datum		args[2];

	args[0] = Int64GetDatum(tenant_id);
	args[1] = UUIDPGetDatum(profile_id);
	profile_exec(&forget_plan, args, NULL, false, 0);
}

/* Remove up to max expired keys of a tenant; their number. */
int64
profile_idempotency_purge(int64 tenant_id, TimestampTz now, int64 max)
{
	Datum		args[3];

	args[0] = Int64GetDatum(tenant_id);
	args[1] = TimestampTzGetDatum(now);
	args[2] = Int64GetDatum(max);
	profile_exec(&purge_plan, args, NULL, false, 0);
	return (int64) SPI_processed;
}

/* Remove every expired key, of one tenant (tenant_id >= 0) or of all. */
int64
profile_idempotency_purge_all(int64 tenant_id, TimestampTz now)
{
	Datum		args[2];
	char		nulls[2] = {' ', ' '};

	args[0] = TimestampTzGetDatum(now);
	args[1] = Int64GetDatum(tenant_id);
	if (tenant_id < 0)
		nulls[1] = 'n';
	profile_exec(&purge_all_plan, args, nulls, false, 0);
	return (int64) SPI_processed;
}
