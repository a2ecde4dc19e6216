/*-------------------------------------------------------------------------
 *
 * src/base/json.c
 *		Building jsonb values (results, audit documents, errors) and looking
 *		at them: small push helpers, the depth of a container, the text of a
 *		UUID.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "base/json.h"

void
profile_push_key(JsonbParseState **st, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(st, WJB_KEY, &k);
}

static void
push_string_value(JsonbParseState **st, JsonbIteratorToken tok,
				  const char *s, int len)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = len;
	pushJsonbValue(st, tok, &v);
}

void
profile_push_text(JsonbParseState **st, const char *key, const char *val)
{
	if (val == NULL)
	{
		profile_push_null(st, key);
		return;
	}
	profile_push_key(st, key);
	push_string_value(st, WJB_VALUE, val, strlen(val));
}

void
profile_push_bool(JsonbParseState **st, const char *key, bool val)
{
	JsonbValue	v;

	profile_push_key(st, key);
	v.type = jbvBool;
	v.val.boolean = val;
	pushJsonbValue(st, WJB_VALUE, &v);
}

void
profile_push_null(JsonbParseState **st, const char *key)
{
	JsonbValue	v;

	profile_push_key(st, key);
	v.type = jbvNull;
	pushJsonbValue(st, WJB_VALUE, &v);
}

static void
push_int_value(JsonbParseState **st, JsonbIteratorToken tok, int64 val)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric,
														Int64GetDatum(val)));
	pushJsonbValue(st, tok, &v);
}

void
profile_push_int(JsonbParseState **st, const char *key, int64 val)
{
	profile_push_key(st, key);
	push_int_value(st, WJB_VALUE, val);
}

void
profile_push_timestamp(JsonbParseState **st, const char *key, TimestampTz ts)
{
	/* palloc'd: pushJsonbValue keeps the pointer, not a copy */
	char	   *buf = JsonEncodeDateTime(NULL, TimestampTzGetDatum(ts),
										 TIMESTAMPTZOID, NULL);

	profile_push_key(st, key);
	push_string_value(st, WJB_VALUE, buf, strlen(buf));
}

void
profile_push_uuid(JsonbParseState **st, const char *key, const pg_uuid_t *uuid)
{
	profile_push_text(st, key, profile_uuid_text(uuid));
}

void
profile_push_jsonb(JsonbParseState **st, const char *key, Jsonb *val)
{
	JsonbValue	v;

	profile_push_key(st, key);
	v.type = jbvBinary;
	v.val.binary.data = &val->root;
	v.val.binary.len = VARSIZE(val) - VARHDRSZ;
	pushJsonbValue(st, WJB_VALUE, &v);
}

/* Push a value of one of the profile columns' types. */
void
profile_push_datum(JsonbParseState **st, const char *key, Datum value,
				   Oid typid)
{
	switch (typid)
	{
		case TEXTOID:
			{
				text	   *t = DatumGetTextPP(value);

				profile_push_key(st, key);
				push_string_value(st, WJB_VALUE, VARDATA_ANY(t),
								  VARSIZE_ANY_EXHDR(t));
				break;
			}
		case BOOLOID:
			profile_push_bool(st, key, DatumGetBool(value));
			break;
		case INT4OID:
			profile_push_int(st, key, DatumGetInt32(value));
			break;
		case JSONBOID:
			profile_push_jsonb(st, key, DatumGetJsonbP(value));
			break;
		case TEXTARRAYOID:
		case INT4ARRAYOID:
			{
				ArrayType  *arr = DatumGetArrayTypeP(value);
				Oid			elemtype = ARR_ELEMTYPE(arr);
				int16		typlen;
				bool		typbyval;
				char		typalign;
				Datum	   *elems;
				bool	   *nulls;
				int			n;

				get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
				deconstruct_array(arr, elemtype, typlen, typbyval, typalign,
								  &elems, &nulls, &n);
				profile_push_key(st, key);
				pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
				for (int i = 0; i < n; i++)
				{
					if (nulls[i])
					{
						JsonbValue	null;

						null.type = jbvNull;
						pushJsonbValue(st, WJB_ELEM, &null);
					}
					else if (elemtype == INT4OID)
						push_int_value(st, WJB_ELEM, DatumGetInt32(elems[i]));
					else
					{
						text	   *t = DatumGetTextPP(elems[i]);

						push_string_value(st, WJB_ELEM, VARDATA_ANY(t),
										  VARSIZE_ANY_EXHDR(t));
					}
				}
				pushJsonbValue(st, WJB_END_ARRAY, NULL);
				break;
			}
		case INT8OID:
			profile_push_int(st, key, DatumGetInt64(value));
			break;
		case UUIDOID:
			profile_push_uuid(st, key, DatumGetUUIDP(value));
			break;
		case TIMESTAMPTZOID:
			profile_push_timestamp(st, key, DatumGetTimestampTz(value));
			break;
		default:
			{
				/* any other type: its text form */
				Oid			out;
				bool		isvarlena;

				getTypeOutputInfo(typid, &out, &isvarlena);
				profile_push_text(st, key, OidOutputFunctionCall(out, value));
				break;
			}
	}
}

/* Depth of a jsonb container (a flat object or array is 1), up to limit+1. */
int
profile_jsonb_depth(JsonbContainer *c, int limit)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			depth = 0,
				max = 0;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		if (tok == WJB_BEGIN_ARRAY || tok == WJB_BEGIN_OBJECT)
		{
			depth++;
			max = Max(max, depth);
			if (max > limit)
				break;
		}
		else if (tok == WJB_END_ARRAY || tok == WJB_END_OBJECT)
			depth--;
	}
	return max;
}

/* The canonical text form of a UUID, palloc'd. */
char	   *
profile_uuid_text(const pg_uuid_t *uuid)
{
	static const char hex[] = "0123456789abcdef";
	char	   *out = palloc(37);
	char	   *p = out;

	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[uuid->data[i] >> 4];
		*p++ = hex[uuid->data[i] & 0x0F];
	}
	*p = '\0';
	return out;
}

/*
 * The length of a string in JSON text, as escape_json writes it: the
 * quotes, two characters for \b \f \n \r \t \" and \\, six for any other
 * control character, and every other byte as it is.
 */
static size_t
escaped_length(const char *s, int len)
{
	size_t		total = 2;
	int			i = 0;

	/*
	 * Eight bytes at a time while none of them needs escaping: no byte below
	 * 0x20 (a byte below it minus 0x20 borrows into its high bit), no '"' and
	 * no '\\' (a zero byte after XOR).
	 */
	for (; i + 8 <= len; i += 8)
	{
		uint64		w;
		uint64		q,
					b;

		memcpy(&w, s + i, 8);
		q = w ^ UINT64CONST(0x2222222222222222);
		b = w ^ UINT64CONST(0x5c5c5c5c5c5c5c5c);
		if (((w - UINT64CONST(0x2020202020202020)) |
			 (q - UINT64CONST(0x0101010101010101)) |
			 (b - UINT64CONST(0x0101010101010101))) &
			~w & UINT64CONST(0x8080808080808080))
			break;
		total += 8;
	}
	for (; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t' ||
			c == '"' || c == '\\')
			total += 2;
		else if (c < ' ')
			total += 6;
		else
			total += 1;
	}
	return total;
}

/*
 * Is the text form of a jsonb container (as JsonbToCString writes it)
 * longer than limit bytes?  The jsonb value can be far smaller than its
 * text -- a number such as 1e131000 takes a dozen bytes stored and 131 kB
 * written out -- so sizes that the contract states for serialised JSON are
 * measured here, and the walk stops as soon as the limit is passed: at most
 * limit bytes and one value are ever written.
 */
bool
profile_jsonb_text_exceeds(JsonbContainer *c, size_t limit)
{
	int			depth;

	return profile_jsonb_measure(c, limit, &depth);
}

/*
 * As profile_jsonb_text_exceeds, in the same walk the depth of the
 * container (a flat object or array is 1): *max_depth, exact when the
 * answer is false.
 */
bool
profile_jsonb_measure(JsonbContainer *c, size_t limit, int *max_depth)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;
	StringInfoData buf;
	size_t		total = 0;
	int			depth = 0;
	int			cap = 32;
	bool	   *first = palloc(sizeof(bool) * cap); /* per open container */
	bool		after_key = false;

	*max_depth = 0;
	initStringInfo(&buf);
	while (total <= limit && (tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		/* ", " before every item but the first of its container */
		if ((tok == WJB_BEGIN_ARRAY || tok == WJB_BEGIN_OBJECT ||
			 tok == WJB_KEY || tok == WJB_ELEM) && !after_key && depth > 0)
		{
			if (!first[depth - 1])
				total += 2;
			first[depth - 1] = false;
		}
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
			case WJB_BEGIN_OBJECT:
				/* a scalar at the top is a raw scalar array: no brackets */
				if (!(tok == WJB_BEGIN_ARRAY && v.val.array.rawScalar))
					total += 1;
				if (depth == cap)
				{
					cap *= 2;
					first = repalloc(first, sizeof(bool) * cap);
				}
				first[depth++] = true;
				*max_depth = Max(*max_depth, depth);
				after_key = false;
				break;
			case WJB_END_ARRAY:
			case WJB_END_OBJECT:
				if (!(tok == WJB_END_ARRAY && depth == 1 && JsonContainerIsScalar(c)))
					total += 1;
				depth--;
				break;
			case WJB_KEY:
			case WJB_VALUE:
			case WJB_ELEM:
				resetStringInfo(&buf);
				switch (v.type)
				{
					case jbvString:
						total += escaped_length(v.val.string.val, v.val.string.len);
						break;
					case jbvNumeric:
						appendStringInfoString(&buf,
											   DatumGetCString(DirectFunctionCall1(numeric_out,
																				   NumericGetDatum(v.val.numeric))));
						break;
					case jbvBool:
						appendStringInfoString(&buf, v.val.boolean ? "true" : "false");
						break;
					default:
						appendStringInfoString(&buf, "null");
						break;
				}
				total += buf.len;
				if (tok == WJB_KEY)
					total += 2; /* ": " */
				after_key = tok == WJB_KEY;
				break;
			default:
				break;
		}
	}
	pfree(buf.data);
	pfree(first);
	return total > limit;
}

/* A new empty jsonb object, palloc'd. */
Jsonb	   *
profile_empty_object(void)
{
	JsonbParseState *st = NULL;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/* jsonb's order of object keys: the shorter first, then bytewise */
static int
key_order_cmp(const void *a, const void *b, void *arg)
{
	const char *const *names = arg;
	const char *x = names[*(const int *) a];
	const char *y = names[*(const int *) b];
	size_t		lx = strlen(x),
				ly = strlen(y);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(x, y, lx);
}

/*
 * The indexes of names[0..n-1] that are not NULL, into order[], in the
 * order jsonb keeps object keys; returns how many.  An object whose keys
 * are pushed in this order needs no sorting when it ends (PostgreSQL's
 * qsort sees that it is sorted): documents built on every call compute
 * their order once.
 */
int
profile_jsonb_key_order(const char *const *names, int n, int *order)
{
	int			count = 0;

	for (int i = 0; i < n; i++)
		if (names[i] != NULL)
			order[count++] = i;
	qsort_arg(order, count, sizeof(int), key_order_cmp, (void *) names);
	return count;
}

/* Append s[0..len-1] as a JSON string, as escape_json writes it. */
static void
append_escaped(StringInfo out, const char *s, int len)
{
	int			i = 0;

	appendStringInfoCharMacro(out, '"');
	while (i < len)
	{
		int			start = i;
		unsigned char c;

		/*
		 * a run that needs no escaping, eight bytes at a time
		 * (escaped_length)
		 */
		for (; i + 8 <= len; i += 8)
		{
			uint64		w;
			uint64		q,
						b;

			memcpy(&w, s + i, 8);
			q = w ^ UINT64CONST(0x2222222222222222);
			b = w ^ UINT64CONST(0x5c5c5c5c5c5c5c5c);
			if (((w - UINT64CONST(0x2020202020202020)) |
				 (q - UINT64CONST(0x0101010101010101)) |
				 (b - UINT64CONST(0x0101010101010101))) &
				~w & UINT64CONST(0x8080808080808080))
				break;
		}
		for (; i < len; i++)
		{
			c = (unsigned char) s[i];
			if (c < ' ' || c == '"' || c == '\\')
				break;
		}
		if (i > start)
			appendBinaryStringInfo(out, s + start, i - start);
		if (i == len)
			break;
		c = (unsigned char) s[i++];
		switch (c)
		{
			case '\b':
				appendBinaryStringInfo(out, "\\b", 2);
				break;
			case '\f':
				appendBinaryStringInfo(out, "\\f", 2);
				break;
			case '\n':
				appendBinaryStringInfo(out, "\\n", 2);
				break;
			case '\r':
				appendBinaryStringInfo(out, "\\r", 2);
				break;
			case '\t':
				appendBinaryStringInfo(out, "\\t", 2);
				break;
			case '"':
				appendBinaryStringInfo(out, "\\\"", 2);
				break;
			case '\\':
				appendBinaryStringInfo(out, "\\\\", 2);
				break;
			default:
				appendStringInfo(out, "\\u%04x", (int) c);
				break;
		}
	}
	appendStringInfoCharMacro(out, '"');
}

static void
append_scalar(StringInfo out, const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendBinaryStringInfo(out, "null", 4);
			break;
		case jbvString:
			append_escaped(out, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			appendStringInfoString(out,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric))));
			break;
		case jbvBool:
			if (v->val.boolean)
				appendBinaryStringInfo(out, "true", 4);
			else
				appendBinaryStringInfo(out, "false", 5);
			break;
		default:
			elog(ERROR, "unknown jsonb scalar type");
	}
}

/*
 * The text of a jsonb value, byte for byte as JsonbToCString writes it
 * (PostgreSQL's jsonb_out), faster: runs of a string that need no
 * escaping are copied at once.  The audit chain hashes this text
 * (audit/chain.c), so it must never differ: builds with assertions compare
 * the two.  palloc'd; *len: its length.
 */
char	   *
profile_jsonb_text(Jsonb *jb, int *len)
{
	StringInfoData out;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken type = WJB_DONE;
	bool		first = true;
	bool		redo_switch = false;
	bool		raw_scalar = false;

	initStringInfo(&out);
	enlargeStringInfo(&out, VARSIZE(jb));
	it = JsonbIteratorInit(&jb->root);
	while (redo_switch || ((type = JsonbIteratorNext(&it, &v, false)) != WJB_DONE))
	{
		CHECK_FOR_INTERRUPTS();
		redo_switch = false;
		switch (type)
		{
			case WJB_BEGIN_ARRAY:
				if (!first)
					appendBinaryStringInfo(&out, ", ", 2);
				if (!v.val.array.rawScalar)
					appendStringInfoCharMacro(&out, '[');
				else
					raw_scalar = true;
				first = true;
				break;
			case WJB_BEGIN_OBJECT:
				if (!first)
					appendBinaryStringInfo(&out, ", ", 2);
				appendStringInfoCharMacro(&out, '{');
				first = true;
				break;
			case WJB_KEY:
				if (!first)
					appendBinaryStringInfo(&out, ", ", 2);
				first = true;
				append_scalar(&out, &v);
				appendBinaryStringInfo(&out, ": ", 2);
				type = JsonbIteratorNext(&it, &v, false);
				if (type == WJB_VALUE)
				{
					first = false;
					append_scalar(&out, &v);
				}
				else
					redo_switch = true; /* a container: its opening next */
				break;
			case WJB_ELEM:
				if (!first)
					appendBinaryStringInfo(&out, ", ", 2);
				first = false;
				append_scalar(&out, &v);
				break;
			case WJB_END_ARRAY:
				if (!raw_scalar)
					appendStringInfoCharMacro(&out, ']');
				first = false;
				break;
			case WJB_END_OBJECT:
				appendStringInfoCharMacro(&out, '}');
				first = false;
				break;
			default:
				elog(ERROR, "unknown jsonb iterator token type");
		}
	}
#ifdef USE_ASSERT_CHECKING
	{
		char	   *theirs = JsonbToCString(NULL, &jb->root, VARSIZE(jb));

		Assert(strcmp(out.data, theirs) == 0);
		pfree(theirs);
	}
#endif
	*len = out.len;
	return out.data;
}
