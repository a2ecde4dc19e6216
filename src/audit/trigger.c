/*-------------------------------------------------------------------------
 *
 * src/audit/trigger.c
 *		The triggers of the audit trail: every write to
 *		profile_data.profiles is recorded, and the audit tables are
 *		append-only.
 *
 * Every write to profile_data.profiles -- through the API, or an admin's
 * direct INSERT, UPDATE, DELETE or COPY -- fires audit_profile_change,
 * which records profile.created, profile.updated (the changed columns, old
 * and new; for the password only the fact), profile.verified (verified
 * went from false to true) or profile.deleted.  The row written by an API
 * call gets the call's client and trace id (audit.c, "Context"); any other
 * gets the database role and a new trace id.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "audit/chain.h"
#include "audit/trigger.h"
#include "base/crypto.h"
#include "base/json.h"
#include "catalog/cache.h"
#include "compat.h"

/* The columns that an audit record never shows. */
static bool
secret_column(const char *name)
{
	return strcmp(name, "password_hash") == 0;
}

/* api_mark: never stored (audit/audit.c, "Marks") */
static bool
mark_column(const char *name)
{
	return strcmp(name, "api_mark") == 0;
}

/*
 * The identity keys: derived from other columns (model/fields.c), so an
 * event that showed them would only repeat those -- and an erasure would
 * have one more copy of the values to find.
 */
static bool
derived_column(const char *name)
{
	static const char *const derived[] = {
		"username_key", "username_skeleton", "username_shape", "email_key", "phone_key"
	};

	for (int i = 0; i < lengthof(derived); i++)
		if (strcmp(name, derived[i]) == 0)
			return true;
	return false;
}

/* tenant_id and id: an event has them as its tenant_id and profile_id (1.1) */
static bool
event_column(const char *name)
{
	return strcmp(name, "tenant_id") == 0 || strcmp(name, "id") == 0;
}

/*
 * A profile row as jsonb, without the password hash, the derived keys and
 * (1.1) the columns that are null -- a column an event does not show has
 * no value -- and the tenant and id, the event's own.
 */
Jsonb	   *
profile_row_document(HeapTuple tup, TupleDesc desc)
{
	JsonbParseState *st = NULL;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		isnull;
		Datum		d;

		if (att->attisdropped || secret_column(NameStr(att->attname)) ||
			derived_column(NameStr(att->attname)) || mark_column(NameStr(att->attname)) ||
			event_column(NameStr(att->attname)))
			continue;
		d = heap_getattr(tup, i + 1, desc, &isnull);
		if (!isnull)
			profile_push_datum(&st, NameStr(att->attname), d, att->atttypid);
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/*
 * The changes of an UPDATE: {"changes": {column: {"old", "new"}}} (but
 * updated_at and the derived keys), and {"password": "changed"} without
 * either value.  NULL when the update only brought the derived keys up to
 * date (a tenant's switch to confusable usernames, say): no event.
 */
static Jsonb *
change_document(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc)
{
	JsonbParseState *st = NULL;
	bool		password_changed = false;
	int			changes = 0;
	int			derived_changes = 0;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_key(&st, "changes");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		onull,
					nnull;
		Datum		o,
					n;

		/* updated_at changes with every update: no news */
		if (att->attisdropped || strcmp(NameStr(att->attname), "updated_at") == 0 ||
			mark_column(NameStr(att->attname)))
			continue;
		o = heap_getattr(oldtup, i + 1, desc, &onull);
		n = heap_getattr(newtup, i + 1, desc, &nnull);
		if (onull == nnull &&
			(onull || datum_image_eq(o, n, att->attbyval, att->attlen)))
			continue;
		if (derived_column(NameStr(att->attname)))
		{
			derived_changes++;
			continue;
		}
		changes++;
		if (secret_column(NameStr(att->attname)))
		{
			password_changed = true;
			continue;
		}
		profile_push_key(&st, NameStr(att->attname));
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		if (onull)
			profile_push_null(&st, "old");
		else
			profile_push_datum(&st, "old", o, att->atttypid);
		if (nnull)
			profile_push_null(&st, "new");
		else
			profile_push_datum(&st, "new", n, att->atttypid);
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	if (password_changed)
		profile_push_text(&st, "password", "changed");
	if (changes == 0 && derived_changes > 0)
		return NULL;
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

static bool
bool_column(HeapTuple tup, TupleDesc desc, const char *name)
{
	int			attno = SPI_fnumber(desc, name);
	bool		isnull;
	Datum		d;

	if (attno <= 0)
		return false;
	d = heap_getattr(tup, attno, desc, &isnull);
	return !isnull && DatumGetBool(d);
}

PG_FUNCTION_INFO_V1(audit_profile_change);

/*
 * profile_data.audit_profile_change(): AFTER INSERT OR UPDATE OR DELETE FOR
 * EACH ROW on profile_data.profiles.
 */
Datum
audit_profile_change(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;
	AuditEvent	ev;
	pg_uuid_t	trace_id;
	bool		isnull;
	int			flags = 0;
	OwnerSection owner;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "audit_profile_change: must be fired AFTER ... FOR EACH ROW");

	desc = RelationGetDescr(td->tg_relation);
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = DatumGetInt64(heap_getattr(tup, SPI_fnumber(desc, "tenant_id"),
											  desc, &isnull));
	ev.profile_id = *DatumGetUUIDP(heap_getattr(tup, SPI_fnumber(desc, "id"),
												desc, &isnull));
	ev.recorded_at = ev.occurred_at = GetCurrentTransactionStartTimestamp();
	ev.source = "db";
	if (!profile_audit_marked(ev.tenant_id, &ev.profile_id,
							  TRIGGER_FIRED_BY_INSERT(td->tg_event) ? MARKED_INSERT :
							  TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? MARKED_UPDATE : MARKED_DELETE,
							  &td->tg_trigtuple->t_self, &ev.client, &ev.trace_id, &flags))
	{
		ev.client = GetUserNameFromId(GetUserId(), false);
		profile_uuid_v4(&trace_id);
		ev.trace_id = &trace_id;
	}

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		/* the API records the events of the profiles it creates itself */
		if (flags & AUDIT_MARK_OWN_EVENTS)
			return PointerGetDatum(tup);
		ev.event = "profile.created";
		ev.data = profile_row_document(tup, desc);
	}
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		/* erase_profile records profile.erased instead, without the values */
		if (flags & AUDIT_MARK_ERASING)
			return PointerGetDatum(tup);
		ev.event = "profile.deleted";
		ev.data = profile_row_document(tup, desc);
	}
	else
	{
		/* the update that marks a row the call then deletes changes nothing */
		if (flags & AUDIT_MARK_DELETING)
		{
			profile_audit_mark_deleting(ev.tenant_id, &ev.profile_id, &tup->t_self);
			return PointerGetDatum(tup);
		}
		ev.event = (!bool_column(td->tg_trigtuple, desc, "verified") &&
					bool_column(tup, desc, "verified")) ?
			"profile.verified" : "profile.updated";
		ev.data = change_document(td->tg_trigtuple, tup, desc);
		if (ev.data == NULL)
			return PointerGetDatum(tup);
	}

	profile_begin_as_owner(&owner);
	profile_audit_append(&ev);
	profile_owner_end(&owner);

	return PointerGetDatum(tup);
}

/*
 * The commitment an erased event keeps (chain.c, "Erasure"): for a
 * version 2 event (it has a salt), the hash of its salt and data; a 1.0
 * event keeps none, nor does a damaged one (a salt of another length, or
 * no data), whose content has no commitment to keep.
 */
static void
kept_commitment(HeapTuple old, TupleDesc desc, uint8 *out, bool *v2)
{
	bool		nsalt,
				ndata;
	Datum		salt = heap_getattr(old, SPI_fnumber(desc, "salt"), desc, &nsalt);
	Datum		data = heap_getattr(old, SPI_fnumber(desc, "data"), desc, &ndata);
	AuditEvent	ev;

	*v2 = !nsalt && !ndata &&
		VARSIZE_ANY_EXHDR(DatumGetByteaPP(salt)) == PROFILE_SALT_LEN;
	if (!*v2)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.salt = (const uint8 *) VARDATA_ANY(DatumGetByteaPP(salt));
	ev.data = DatumGetJsonbP(data);
	profile_event_content_hash(&ev, out);
}

/*
 * Is an update of an audit event erase_profile removing its content?  The
 * owner of the table makes it (the API acts as the owner; so does a Citus
 * coordinator's connection to the worker holding the event, where this
 * trigger fires, so nothing of the calling backend can be asked); only
 * data, salt, content_hash and erased_at change; afterwards data and salt
 * are null, erased_at is set where it was not before, and content_hash is
 * the commitment of the content removed (none for a 1.0 event).  An
 * erasure like it made behind erase_profile's back is no secret either:
 * verify_audit_chain reports erased events no profile.erased event
 * accounts for.
 */
static bool
erasure_of(Relation rel, HeapTuple old, HeapTuple new, TupleDesc desc)
{
	uint8		commitment[PROFILE_HASH_LEN];
	bool		v2;

	if (!profile_user_owns(rel))
		return false;
	kept_commitment(old, desc, commitment, &v2);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		bool		n1,
					n2;
		Datum		d1,
					d2;

		if (att->attisdropped)
			continue;
		d1 = heap_getattr(old, i + 1, desc, &n1);
		d2 = heap_getattr(new, i + 1, desc, &n2);
		if (strcmp(name, "data") == 0 || strcmp(name, "salt") == 0)
		{
			if (!n2)
				return false;
		}
		else if (strcmp(name, "erased_at") == 0)
		{
			if (!n1 || n2)
				return false;
		}
		else if (strcmp(name, "content_hash") == 0)
		{
			if (n2 == v2 ||
				(v2 && (VARSIZE_ANY_EXHDR(DatumGetByteaPP(d2)) != PROFILE_HASH_LEN ||
						memcmp(VARDATA_ANY(DatumGetByteaPP(d2)), commitment,
							   PROFILE_HASH_LEN) != 0)))
				return false;
		}
		else if ((n1 != n2 || (!n1 && !datum_image_eq(d1, d2, att->attbyval, att->attlen))))
			return false;
	}
	return true;
}

PG_FUNCTION_INFO_V1(refuse_change);

/*
 * profile_data.refuse_change(): BEFORE UPDATE OR DELETE (row) and BEFORE
 * TRUNCATE (statement): the audit tables are append-only, for every role;
 * profiles are deleted row by row so that each deletion is audited.
 */
Datum
refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *rel;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "refuse_change: not called as a trigger");
	rel = profile_unshard_name(RelationGetRelationName(td->tg_relation));
	what = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "update rows of" :
		TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "delete from" : "truncate";

	/* the one change an audit event takes: erase_profile removing content */
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) && TRIGGER_FIRED_FOR_ROW(td->tg_event) &&
		strcmp(rel, "audit_events") == 0 &&
		erasure_of(td->tg_relation, td->tg_trigtuple, td->tg_newtuple,
				   RelationGetDescr(td->tg_relation)))
		return PointerGetDatum(td->tg_newtuple);

	if (strcmp(rel, "profiles") == 0)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot truncate table \"profile_data.profiles\""),
				errdetail("Every deletion of a profile is audited."),
				errhint("Use DELETE."));
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("cannot %s table \"profile_data.%s\"", what, rel),
			errhint("Audit records can only be added."),
			errdetail("The table is append-only, for every role."));
	PG_RETURN_NULL();
}
