/*-------------------------------------------------------------------------
 *
 * src/api/rowcheck.c
 *		Direct writes obey the rules: a BEFORE INSERT OR UPDATE trigger on
 *		profile_data.profiles runs every column through the rule core.
 *
 * An admin's INSERT, UPDATE or COPY gets the API's field rules (username,
 * email, phone, country, language, lengths, ranges, roles within the
 * tenant's allowed_roles, attributes limits), the same normalisation (the
 * email's domain lower-cased, the phone in E.164, the country upper-case)
 * and the same errors: VALIDATION_FAILED with every broken rule, named by
 * column, and PROFILE_EXISTS for a username, email or phone the tenant
 * already holds.  The password_hash column must hold an Argon2id hash.
 * Rules of a request rather than of a row (contact_required,
 * complete_fields) are the API's alone.
 *
 * A row an API call writes has passed all of this already: it carries the
 * call's mark in api_mark (audit/audit.c, "Marks"), which is taken off
 * the row here and kept for the audit trigger; the row is let through
 * otherwise untouched.  Only the owner of profile_data may mark a row.
 * A write without a mark drops a mark an earlier write left; a deletion
 * keeps only the mark of the call deleting the row.  The uniqueness probe
 * here is a courtesy for a clear error; the unique indexes remain the
 * guarantee (a concurrent duplicate gets their unique_violation, SQLSTATE
 * 23505 too).
 *
 * Citus.  The trigger fires on the worker that holds the row's shard; a
 * new row's id is claimed in profile_data.profile_ids, distributed by id,
 * so possibly on another worker: a write that Citus runs from the worker
 * inside the coordinator's transaction.  That works when the coordinator
 * commits the worker's part alone, and breaks when it commits several
 * workers in two-phase commit (the worker's own remote write cannot be
 * prepared with it).  Such a transaction is refused before it prepares,
 * so nothing commits in part: README, "Scaling out with Citus".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"

#include "api/rowcheck.h"
#include "audit/audit.h"
#include "base/crypto.h"
#include "catalog/cache.h"
#include "compat.h"
#include "core/pe_validate.h"
#include "model/fields.h"
#include "store/profiles.h"

/* a direct INSERT on a Citus worker claimed an id (see "Citus") */
static bool claimed_on_shard = false;

static void
rowcheck_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_PREPARE && claimed_on_shard)
	{
		claimed_on_shard = false;
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot commit a direct insert into \"profile_data.profiles\" on several Citus workers at once"),
				errdetail("Each new profile's id is claimed from the worker that stores the profile, which two-phase commit cannot include."),
				errhint("Insert the profiles of one tenant per transaction, or use profile.create_profiles()."));
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
		claimed_on_shard = false;
}

/* Register the transaction callback; once per backend, from _PG_init. */
void
profile_rowcheck_init(void)
{
	RegisterXactCallback(rowcheck_xact_callback, NULL);
}

static const PeRule r_hash = {"format", "must be an Argon2id hash in PHC string format, never a plain password"};
static const PeRule r_null_item = {"format", "must not contain nulls"};
static const PeRule r_not_allowed = {"allowed", "every role must be in the tenant's allowed_roles"};

/* Check the elements of an array column; NULL if all pass. */
static const PeRule *
check_array_column(const PeFieldDef *def, Datum d, const TenantInfo *tenant)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	bool		ints = ARR_ELEMTYPE(arr) == INT4OID;

	deconstruct_array(arr, ARR_ELEMTYPE(arr), ints ? 4 : -1, ints, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		const PeRule *r = NULL;

		if (nulls[i])
			return &r_null_item;
		if (ints)
			r = pe_check_int(DatumGetInt32(elems[i]));
		else
		{
			text	   *t = DatumGetTextPP(elems[i]);
			const char *s = VARDATA_ANY(t);
			size_t		len = VARSIZE_ANY_EXHDR(t);

			if (def->type == PE_T_ROLES)
			{
				r = pe_check_role(s, len);
				if (r == NULL && !profile_role_allowed(tenant, s, len))
					r = &r_not_allowed;
			}
			else if (pe_utf8_chars(s, len) > (size_t) def->max_chars)
				r = &pe_rule_selector_length;
		}
		if (r)
			return r;
	}
	return NULL;
}

/* Does column attno differ between the old and the new row? */
static bool
column_changed(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc, int attno)
{
	bool		oldnull,
				newnull;
	Datum		o = heap_getattr(oldtup, attno, desc, &oldnull);
	Datum		n = heap_getattr(newtup, attno, desc, &newnull);
	Form_pg_attribute att = TupleDescAttr(desc, attno - 1);

	return oldnull != newnull ||
		(!oldnull && !datum_image_eq(o, n, att->attbyval, att->attlen));
}

/*
 * Take a row's mark off it: *tup becomes a copy without it.  true if it had
 * one (only the owner of profile_data may mark a row); *mark: the mark.
 */
static bool
strip_mark(Relation rel, HeapTuple *tup, char **mark)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			attno = SPI_fnumber(desc, "api_mark");
	bool		isnull;
	Datum		d;
	Datum	   *vals;
	bool	   *nulls;
	bool	   *repl;

	if (attno <= 0)
		return false;			/* 1.0's table, during the update */
	d = heap_getattr(*tup, attno, desc, &isnull);
	if (isnull)
		return false;
	if (!profile_user_owns(rel))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("only the owner of table \"profile_data.profiles\" may set column \"api_mark\""),
				errdetail("The column is the API's."));
	*mark = TextDatumGetCString(d);
	vals = palloc0(sizeof(Datum) * desc->natts);
	nulls = palloc0(sizeof(bool) * desc->natts);
	repl = palloc0(sizeof(bool) * desc->natts);
	nulls[attno - 1] = true;
	repl[attno - 1] = true;
	*tup = heap_modify_tuple(*tup, desc, vals, nulls, repl);
	return true;
}

/*
 * A deletion: the row keeps the mark of the call that deletes it (set by
 * the statement before, AUDIT_MARK_DELETING), and no other.
 */
static void
check_deletion(HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		d;
	int64		tenant_id;
	pg_uuid_t	id;
	const char *client;
	const pg_uuid_t *trace_id;
	int			flags;

	d = heap_getattr(tup, SPI_fnumber(desc, "tenant_id"), desc, &isnull);
	if (isnull)
		return;
	tenant_id = DatumGetInt64(d);
	d = heap_getattr(tup, SPI_fnumber(desc, "id"), desc, &isnull);
	if (isnull)
		return;
	id = *DatumGetUUIDP(d);
	if (!profile_audit_marked(tenant_id, &id, MARKED_DELETE, &tup->t_self,
							  &client, &trace_id, &flags))
		profile_audit_drop_mark(tenant_id, &id);
}

PG_FUNCTION_INFO_V1(check_profile_row);

/*
 * profile_data.check_profile_row(): BEFORE INSERT OR UPDATE OR DELETE FOR
 * EACH ROW on profile_data.profiles.
 */
Datum
check_profile_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;
	bool		update;
	bool		isnull;
	Datum		d;
	int64		tenant_id;
	pg_uuid_t	id;
	ProfileRow	row;
	bool		changed[PE_F__COUNT];
	Datum	   *repl_vals;
	bool	   *repl_nulls;
	bool	   *repl;
	bool		keys_changed = false;
	FieldErrors errs = {0};
	pg_uuid_t	trace_id;
	const TenantInfo *tenant;
	OwnerSection owner;
	bool		marked;
	char	   *mark = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "check_profile_row: must be fired BEFORE ... FOR EACH ROW");
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		check_deletion(td->tg_trigtuple, RelationGetDescr(td->tg_relation));
		return PointerGetDatum(td->tg_trigtuple);
	}
	update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
	tup = update ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	/* first of all: no error below may show it */
	marked = strip_mark(td->tg_relation, &tup, &mark);

	d = heap_getattr(tup, SPI_fnumber(desc, "tenant_id"), desc, &isnull);
	if (isnull)
		return PointerGetDatum(tup);	/* NOT NULL says no */
	tenant_id = DatumGetInt64(d);
	d = heap_getattr(tup, SPI_fnumber(desc, "id"), desc, &isnull);
	if (isnull)
		return PointerGetDatum(tup);
	id = *DatumGetUUIDP(d);

	/* an API call checked this very row already */
	if (marked)
	{
		if (!profile_audit_take_mark(tenant_id, &id, mark,
									 update ? MARKED_UPDATE : MARKED_INSERT,
									 &td->tg_trigtuple->t_self))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid value in column \"api_mark\""),
					errdetail("The column is the API's."));
		return PointerGetDatum(tup);
	}
	profile_audit_drop_mark(tenant_id, &id);

	profile_uuid_v4(&trace_id);
	/* a profile keeps its tenant and id: its audit chain and claim are theirs */
	if (update &&
		(column_changed(td->tg_trigtuple, tup, desc, SPI_fnumber(desc, "tenant_id")) ||
		 column_changed(td->tg_trigtuple, tup, desc, SPI_fnumber(desc, "id"))))
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot change the tenant or the id of a profile"),
				errhint("Create a new profile and delete the old one."));

	/* normalised values are made in the trigger's context: they outlive SPI */
	profile_begin_as_owner(&owner);

	tenant = profile_tenant_by_id(tenant_id);
	if (tenant == NULL)
		profile_raise(PE_E_TENANT_NOT_FOUND, &trace_id, NULL, NULL,
					  "tenant with id " INT64_FORMAT " does not exist", tenant_id);

	/* the row as the API sees one: the stored keys are the old row's */
	memset(&row, 0, sizeof(row));
	if (update)
		profile_row_from_tuple(td->tg_trigtuple, desc, &row);
	repl_vals = palloc0(sizeof(Datum) * desc->natts);
	repl_nulls = palloc0(sizeof(bool) * desc->natts);
	repl = palloc0(sizeof(bool) * desc->natts);
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		const PeFieldDef *def = &pe_fields[f];
		const char *column = profile_field_column(f);
		int			attno = SPI_fnumber(desc, column);
		const PeRule *r = NULL;
		Datum		out;

		row.isnull[f] = true;
		changed[f] = false;
		if (attno <= 0)
			continue;
		d = heap_getattr(tup, attno, desc, &row.isnull[f]);
		row.values[f] = d;
		/* an update is checked on what it changes */
		changed[f] = !update || column_changed(td->tg_trigtuple, tup, desc, attno);
		if (changed[f] && (f == PE_F_USERNAME || f == PE_F_EMAIL || f == PE_F_PHONE))
			keys_changed = true;
		if (row.isnull[f] || !changed[f])
			continue;

		if (def->type == PE_T_PASSWORD)
		{
			/* the column holds the hash, never a password */
			if (strncmp(TextDatumGetCString(d), "$argon2id$", 10) != 0)
				r = &r_hash;
		}
		else if (pe_type_is_string(def->type))
		{
			text	   *t = DatumGetTextPP(d);

			r = profile_check_string(f, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
									 &out, &row.phone);
			if (r == NULL && def->type == PE_T_PHONE)
				r = profile_check_phone_type(tenant, &row.phone);
			if (r == NULL && !datum_image_eq(out, d, false, -1))
			{
				row.values[f] = out;
				repl_vals[attno - 1] = out;
				repl[attno - 1] = true;
			}
		}
		else
			switch (def->type)
			{
				case PE_T_ACCESS_LEVEL:
					r = pe_check_access_level(DatumGetInt32(d));
					break;
				case PE_T_INT:
					r = pe_check_int(DatumGetInt32(d));
					break;
				case PE_T_ROLES:
				case PE_T_INT_ARRAY:
				case PE_T_TEXT_ARRAY:
					r = check_array_column(def, d, tenant);
					break;
				case PE_T_ATTRIBUTES:
					r = profile_check_attributes(DatumGetJsonbP(d));
					break;
				default:
					break;
			}
		if (r)
			profile_add_rule(&errs, column, r);
	}
	/* the table has no CHECK constraint for it (see the 1.1 update script) */
	d = heap_getattr(tup, SPI_fnumber(desc, "state"), desc, &isnull);
	if (!isnull &&
		(!update || column_changed(td->tg_trigtuple, tup, desc, SPI_fnumber(desc, "state"))))
	{
		text	   *t = DatumGetTextPP(d);
		size_t		len = VARSIZE_ANY_EXHDR(t);

		if (!((len == 8 && memcmp(VARDATA_ANY(t), "complete", 8) == 0) ||
			  (len == 10 && memcmp(VARDATA_ANY(t), "incomplete", 10) == 0)))
			profile_add_error(&errs, "state", "allowed", "must be \"complete\" or \"incomplete\"");
	}
	if (errs.count > 0)
		profile_raise_validation(&trace_id, &errs);

	/* the keys are derived, whatever the statement wrote into them */
	profile_rekey(&row, tenant, changed);
	if (update)
		profile_reclaim_keys(tenant_id, &row);
	for (int k = 0; k < PROFILE_N_KEYS; k++)
	{
		int			attno = SPI_fnumber(desc, profile_key_columns[k]);

		if (attno <= 0)
			continue;
		repl_vals[attno - 1] = row.keys[k];
		repl_nulls[attno - 1] = row.keynull[k];
		repl[attno - 1] = true;
	}
	if (keys_changed ||
		(tenant->confusable && !row.keynull[PROFILE_KEY_SKELETON] && !profile_rekeying(tenant_id)))
		profile_raise_if_taken(&trace_id, tenant_id, &row, update ? &id : NULL, NULL);
	if (!update)
	{
		const char *name = RelationGetRelationName(td->tg_relation);

		if (strcmp(name, profile_unshard_name(name)) != 0)
			claimed_on_shard = true;
		if (!profile_claim_id(&id, tenant_id, GetCurrentTransactionStartTimestamp()))
			profile_raise_taken(&trace_id, "id");
	}

	profile_owner_end(&owner);
	return PointerGetDatum(heap_modify_tuple(tup, desc, repl_vals, repl_nulls, repl));
}
