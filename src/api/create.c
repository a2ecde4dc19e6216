/*-------------------------------------------------------------------------
 *
 * src/api/create.c
 *		profile.create_profile(jsonb) (README, Reference).
 *
 * Request shape, principal, tenant, contract and rate limit
 * (model/caller.c); every field rule, with all errors together, then
 * completeness (model/fields.c); the row is stored, uniqueness enforced by
 * the unique indexes and audited (store/profiles.c), and, in a verifying
 * tenant, a verification issued (store/verification.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sodium.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/json.h"
#include "model/caller.h"
#include "model/document.h"
#include "store/idempotency.h"
#include "store/profiles.h"
#include "store/verification.h"

/*
 * Check a new profile's fields (in, read from its payload) and fill row:
 * every rule, with all errors together in errs, then completeness; the
 * password hashed, the id made, the keys derived.  Nothing is written.
 */
static void
check_new_profile(ApiCall *ctx, ProfileInput *in, ProfileRow *row, FieldErrors *errs,
				  const char **verification_url)
{
	memset(row, 0, sizeof(*row));
	*verification_url = NULL;
	profile_check_fields(in, ctx->tenant, row, errs);
	profile_apply_defaults(row, in->present, ctx->tenant);
	profile_country_from_phone(row, true);
	profile_check_contact(in->present, errs);
	row->incomplete = profile_missing_complete(ctx->tenant, in->present, errs);
	if (ctx->tenant->verification)
	{
		*verification_url = profile_verification_base(ctx->tenant, in);
		if (*verification_url == NULL)
			profile_add_error(errs, "verificationUrl", "required",
							  "is required when the tenant verifies new profiles and has no verification_url");
	}
	if (errs->count > 0)
		return;

	if (!row->isnull[PE_F_PASSWORD])
		profile_hash_row_password(row);
	row->tenant_id = ctx->tenant->id;
	row->tenant_name = ctx->tenant->name;
	profile_uuid_v7(&row->id);
	profile_start_unverified(row, ctx->tenant);
	row->created_at = row->updated_at = ctx->now;
	row->first_login_at = row->last_login_at = DT_NOBEGIN;
	if (row->incomplete)
	{
		row->wizard_url = profile_wizard_url(ctx->tenant->wizard_url, &row->id);
		row->message = "profile stored as incomplete; continue at wizard_url";
	}
	else
		row->message = "profile created";
	profile_identity_keys(row, ctx->tenant);
}

/* Check everything, store the profile, return its document. */
static Jsonb *
create_profile_internal(Jsonb *payload)
{
	ApiCall		ctx;
	ProfileInput in;
	ProfileRow	row;
	FieldErrors errs;
	const char *verification_url;
	Jsonb	   *result;
	Idempotency idem;

	profile_call_begin(&ctx, "create_profile()");
	profile_check_request(&ctx, payload);
	profile_read_payload(payload, &in);
	result = profile_idempotency_begin(&ctx, &in, "create_profile", &idem, payload, 1, NULL);
	if (result)
		return result;

	errs = in.errs;
	check_new_profile(&ctx, &in, &row, &errs, &verification_url);
	if (errs.count > 0)
		profile_raise_validation(&ctx.trace_id, &errs);

	profile_insert_row(&ctx, &row);

	if (ctx.tenant->verification)
		profile_issue_verification(&ctx, &row, verification_url);
	profile_audit_clear_context();
	ctx.http_status = row.incomplete ? 202 : 201;
	result = profile_result(&row, &ctx.trace_id);
	if (idem.key)
	{
		if (!row.isnull[PE_F_PASSWORD])
			idem.password_hashes[0] = TextDatumGetCString(row.values[PE_F_PASSWORD]);
		profile_idempotency_keep(&ctx, &idem, result, ctx.http_status, &row.id, 1);
	}
	profile_call_end(&ctx);
	return result;
}

/* The body of create_profile, for profile_api_call. */
static Jsonb *
create_profile_body(FunctionCallInfo fcinfo)
{
	return create_profile_internal(PG_GETARG_JSONB_P(0));
}

PG_FUNCTION_INFO_V1(create_profile);

/* profile.create_profile(jsonb) RETURNS jsonb */
Datum
create_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, create_profile_body));
}

/*
 * create_profiles: a batch of up to 1000 profiles (README, "Batches").
 *
 * The principal, tenant, contract and rate limit are checked once.  Each
 * item is checked on its own, as create_profile checks a payload; items of
 * the batch whose usernames, emails or phones have equal keys are caught
 * here, the later one getting PROFILE_EXISTS.  The items that pass go into
 * the table in one statement (store/profiles.c, profile_insert_rows), whose
 * ON CONFLICT DO NOTHING leaves out an item that meets an existing
 * profile; their ids are claimed and their profile.created events recorded
 * in one statement each.  An item that fails writes nothing; the others
 * are stored.
 */
typedef struct BatchItem
{
	ProfileRow	row;
	const char *verification_url;
	bool		ready;			/* checked, to be stored */
	bool		stored;
	Jsonb	   *error;			/* {"code", "errors"? , "field"?}, or NULL */
} BatchItem;

static Jsonb *
item_error(PeErrorCode code, const FieldErrors *errs, const char *field)
{
	return profile_error_document(code, errs, field);
}

/* The keys seen in a batch: a key's digest, and the first item that has it. */
typedef struct BatchKey
{
	uint8		digest[32];
	int			index;
} BatchKey;

/* A key of an item, told apart by its kind, as a hash key. */
static void
key_digest(ProfileKey kind, Datum key, uint8 *out)
{
	text	   *t = DatumGetTextPP(key);
	crypto_hash_sha256_state st;
	uint8		k = (uint8) kind;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &k, 1);
	crypto_hash_sha256_update(&st, (const uint8 *) VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	crypto_hash_sha256_final(&st, out);
}

/*
 * The first item of the batch that holds one of item's keys; -1 if none.
 * keys: the keys seen so far, by digest.
 */
static int
batch_taken(HTAB *keys, const ProfileRow *row, int index, const char **field)
{
	uint8		digests[PROFILE_N_KEYS][32];

	for (int k = 0; k < PROFILE_N_KEYS; k++)
	{
		bool		found;
		BatchKey   *first;

		if (row->keynull[k])
			continue;
		key_digest(k, row->keys[k], digests[k]);
		first = hash_search(keys, digests[k], HASH_FIND, &found);
		if (found)
		{
			*field = profile_key_fields[k];
			return first->index;
		}
	}
	for (int k = 0; k < PROFILE_N_KEYS; k++)
	{
		bool		found;
		BatchKey   *entry;

		if (row->keynull[k])
			continue;
		entry = hash_search(keys, digests[k], HASH_ENTER, &found);
		entry->index = index;
	}
	return -1;
}

static Jsonb *
create_profiles_internal(Jsonb *payload)
{
	ApiCall		ctx;
	ProfileInput top;
	JsonbParseState *st = NULL;
	JsonbIterator *it;
	JsonbValue	k,
				v,
				items = {0};
	JsonbIteratorToken tok;
	bool		have_items = false;
	FieldErrors errs = {0};
	int			n,
				i,
				ready = 0,
				created = 0;
	BatchItem  *batch;
	ProfileRow **rows;
	bool	   *inserted;
	Jsonb	  **docs;
	pg_uuid_t  *ids;
	AuditEvent *events;
	HASHCTL		hctl;
	HTAB	   *keys;
	Jsonb	   *result;
	Idempotency idem;

	profile_call_begin(&ctx, "create_profiles()");
	profile_check_request(&ctx, payload);

	/* the batch's own keys; the rest is the principal's */
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	it = JsonbIteratorInit(&payload->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &v, true);
		if (k.val.string.len == 8 && memcmp(k.val.string.val, "profiles", 8) == 0)
		{
			items = v;
			have_items = true;
			continue;
		}
		pushJsonbValue(&st, WJB_KEY, &k);
		pushJsonbValue(&st, WJB_VALUE, &v);
	}
	if (!have_items || items.type != jbvBinary || !JsonContainerIsArray(items.val.binary.data) ||
		JsonContainerSize(items.val.binary.data) < 1 ||
		JsonContainerSize(items.val.binary.data) > PE_MAX_BATCH)
		profile_raise(PE_E_INVALID_REQUEST, &ctx.trace_id, NULL, NULL,
					  "request body must hold \"profiles\", an array of 1 to " PE_STR(PE_MAX_BATCH) " profiles");
	profile_read_payload(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)), &top);
	errs = top.errs;
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
		if (top.present[f] || top.cleared[f])
			profile_add_error(&errs, top.key[f], "unknown",
							  "belongs in an item of \"profiles\"");
	if (errs.count > 0)
		profile_raise_validation(&ctx.trace_id, &errs);
	n = (int) JsonContainerSize(items.val.binary.data);
	result = profile_idempotency_begin(&ctx, &top, "create_profiles", &idem, payload, n, NULL);
	if (result)
		return result;

	/* each item on its own */
	batch = palloc0(sizeof(BatchItem) * n);
	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = 32;
	hctl.entrysize = sizeof(BatchKey);
	hctl.hcxt = CurrentMemoryContext;
	keys = hash_create("create_profiles keys", n * 2, &hctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	it = JsonbIteratorInit(items.val.binary.data);
	i = 0;
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		BatchItem  *b;
		ProfileInput in;
		FieldErrors ierrs = {0};
		const char *field;

		if (tok != WJB_ELEM)
			continue;
		CHECK_FOR_INTERRUPTS();
		b = &batch[i];
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		{
			profile_add_error(&ierrs, psprintf("profiles[%d]", i), "type", "must be an object");
			b->error = item_error(PE_E_VALIDATION_FAILED, &ierrs, NULL);
			i++;
			continue;
		}
		profile_read_payload(JsonbValueToJsonb(&v), &in);
		ierrs = in.errs;
		for (int f = PE_F_ACCESS_TOKEN; f < PE_F_USERNAME; f++)
			if (in.present[f] || in.cleared[f])
				profile_add_error(&ierrs, in.key[f], "unknown",
								  "belongs to the batch, not to an item");
		check_new_profile(&ctx, &in, &b->row, &ierrs, &b->verification_url);
		if (ierrs.count > 0)
			b->error = item_error(PE_E_VALIDATION_FAILED, &ierrs, NULL);
		else if (batch_taken(keys, &b->row, i, &field) >= 0)
			b->error = item_error(PE_E_PROFILE_EXISTS, NULL, field);
		else
		{
			b->ready = true;
			ready++;
		}
		i++;
	}

	/* the items that passed, in one statement */
	rows = palloc(sizeof(ProfileRow *) * Max(ready, 1));
	inserted = palloc(sizeof(bool) * Max(ready, 1));
	docs = palloc(sizeof(Jsonb *) * Max(ready, 1));
	ids = palloc(sizeof(pg_uuid_t) * Max(ready, 1));
	events = palloc0(sizeof(AuditEvent) * Max(ready, 1));
	for (i = 0, ready = 0; i < n; i++)
		if (batch[i].ready)
		{
			rows[ready++] = &batch[i].row;
		}
	if (ready > 0)
	{
		int			nev = 0;

		profile_insert_rows(&ctx, rows, ready, inserted, docs);
		for (int r = 0; r < ready; r++)
		{
			BatchItem  *b = (BatchItem *) ((char *) rows[r] - offsetof(BatchItem, row));

			if (!inserted[r])
			{
				const char *field = profile_taken_field(ctx.tenant->id, rows[r], NULL);

				b->error = item_error(PE_E_PROFILE_EXISTS, NULL, field ? field : "id");
				continue;
			}
			b->stored = true;
			ids[nev] = rows[r]->id;
			profile_created_event(&ctx, rows[r], docs[r], &events[nev++]);
		}
		profile_claim_ids(ids, nev, ctx.tenant->id, ctx.now);
		profile_audit_append_firsts(events, nev);
		profile_audit_clear_context();
		created = nev;
		if (ctx.tenant->verification)
			for (i = 0; i < n; i++)
				if (batch[i].stored)
					profile_issue_verification(&ctx, &batch[i].row, batch[i].verification_url);
	}

	/* per item: the profile, or the error */
	st = NULL;
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_int(&st, "created", created);
	profile_push_int(&st, "failed", n - created);
	profile_push_key(&st, "results");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		profile_push_int(&st, "index", i);
		profile_push_bool(&st, "ok", batch[i].stored);
		if (batch[i].stored)
		{
			profile_push_key(&st, "profile");
			profile_push_result(&st, &batch[i].row, &ctx.trace_id);
		}
		else
			profile_push_jsonb(&st, "error", batch[i].error);
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	profile_push_uuid(&st, "trace_id", &ctx.trace_id);
	result = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	ctx.http_status = 200;
	if (idem.key)
	{
		int			nids = 0;

		for (i = 0; i < n; i++)
			if (batch[i].stored)
			{
				ids[nids++] = batch[i].row.id;
				if (i < idem.n_passwords && !batch[i].row.isnull[PE_F_PASSWORD])
					idem.password_hashes[i] = TextDatumGetCString(batch[i].row.values[PE_F_PASSWORD]);
			}
		profile_idempotency_keep(&ctx, &idem, result, ctx.http_status, ids, nids);
	}
	profile_call_end(&ctx);
	return result;
}

static Jsonb *
create_profiles_body(FunctionCallInfo fcinfo)
{
	return create_profiles_internal(profile_payload_arg(fcinfo, 0));
}

PG_FUNCTION_INFO_V1(create_profiles);

/* profile.create_profiles(jsonb) RETURNS jsonb */
Datum
create_profiles(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, create_profiles_body));
}
