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
 * JSON text of jsonb, as JsonbToCString (jsonb_out) writes it.  One walk
 * serves two ends: measuring a request's text against the contract's
 * limits (the jsonb value can be far smaller than its text -- a number
 * such as 1e131000 takes a dozen bytes stored and 131 kB written out), and
 * writing the text an audit hash covers (audit/chain.c), which must never
 * differ from jsonb_out's: builds with assertions compare the two.
 */

/*
 * The first byte at or after s[i] that a JSON string escapes ('"', '\\',
 * a control character); len if none.  Eight bytes at a time while none of
 * them does: a byte below 0x20 minus 0x20 borrows into its high bit, and
 * '"' and '\\' leave a zero byte after XOR.  A false alarm only follows a
 * byte that does need escaping, which the byte loop then finds.
 */
static int
clean_run_end(const char *s, int i, int len)
{
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
		unsigned char c = (unsigned char) s[i];

		if (c < ' ' || c == '"' || c == '\\')
			break;
	}
	return i;
}

/*
 * A byte as escape_json escapes it, into buf (7 bytes): \b \f \n \r \t \"
 * and \\ take two characters, any other control character six.  Returns
 * the length; buf NULL: only that.
 */
static int
escaped_byte(unsigned char c, char *buf)
{
	static const char two[] = {'\b', 'b', '\f', 'f', '\n', 'n', '\r', 'r',
	'\t', 't', '"', '"', '\\', '\\'};

	for (int i = 0; i < lengthof(two); i += 2)
		if (c == (unsigned char) two[i])
		{
			if (buf)
			{
				buf[0] = '\\';
				buf[1] = two[i + 1];
			}
			return 2;
		}
	if (buf)
		snprintf(buf, 7, "\\u%04x", (int) c);
	return 6;
}

/* s[0..len-1] as a JSON string: appended to out (NULL: only counted); its length. */
static size_t
put_string(StringInfo out, const char *s, int len)
{
	size_t		total = 2;
	int			i = 0;

	if (out)
		appendStringInfoCharMacro(out, '"');
	while (i < len)
	{
		int			end = clean_run_end(s, i, len);
		char		buf[7];
		int			n;

		if (out && end > i)
			appendBinaryStringInfo(out, s + i, end - i);
		total += end - i;
		if (end == len)
			break;
		n = escaped_byte((unsigned char) s[end], out ? buf : NULL);
		if (out)
			appendBinaryStringInfo(out, buf, n);
		total += n;
		i = end + 1;
	}
	if (out)
		appendStringInfoCharMacro(out, '"');
	return total;
}

/* s[0..len-1] appended to out (NULL: only counted); len. */
static size_t
put(StringInfo out, const char *s, int len)
{
	if (out)
		appendBinaryStringInfo(out, s, len);
	return len;
}

static size_t
put_scalar(StringInfo out, const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return put(out, "null", 4);
		case jbvString:
			return put_string(out, v->val.string.val, v->val.string.len);
		case jbvNumeric:
			{
				char	   *n = DatumGetCString(DirectFunctionCall1(numeric_out,
																	NumericGetDatum(v->val.numeric)));
				size_t		len = put(out, n, strlen(n));

				pfree(n);
				return len;
			}
		case jbvBool:
			return v->val.boolean ? put(out, "true", 4) : put(out, "false", 5);
		default:
			elog(ERROR, "unknown jsonb scalar type");
	}
	return 0;					/* keep compiler quiet */
}

/*
 * Walk the text of container c, in the steps of JsonbToCStringWorker (its
 * indent off): written to out (NULL: only counted), stopping once more
 * than limit bytes are counted (at most limit bytes and one value more
 * are ever written or counted).  *max_depth: the depth of c (a flat
 * object or array is 1), exact when the text fits.  Returns the length.
 */
static size_t
text_walk(JsonbContainer *c, StringInfo out, size_t limit, int *max_depth)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken type = WJB_DONE;
	bool		first = true;
	bool		redo_switch = false;
	bool		raw_scalar = false;
	size_t		total = 0;
	int			depth = 0;

	*max_depth = 0;
	while (total <= limit &&
		   (redo_switch || (type = JsonbIteratorNext(&it, &v, false)) != WJB_DONE))
	{
		CHECK_FOR_INTERRUPTS();
		redo_switch = false;
		switch (type)
		{
			case WJB_BEGIN_ARRAY:
			case WJB_BEGIN_OBJECT:
				if (!first)
					total += put(out, ", ", 2);
				if (type == WJB_BEGIN_OBJECT)
					total += put(out, "{", 1);
				else if (!v.val.array.rawScalar)
					total += put(out, "[", 1);
				else
					raw_scalar = true;	/* a scalar at the top: no brackets */
				first = true;
				depth++;
				*max_depth = Max(*max_depth, depth);
				break;
			case WJB_KEY:
				if (!first)
					total += put(out, ", ", 2);
				first = true;
				total += put_scalar(out, &v);
				total += put(out, ": ", 2);
				type = JsonbIteratorNext(&it, &v, false);
				if (type == WJB_VALUE)
				{
					first = false;
					total += put_scalar(out, &v);
				}
				else
					redo_switch = true; /* a container: its opening next */
				break;
			case WJB_ELEM:
				if (!first)
					total += put(out, ", ", 2);
				first = false;
				total += put_scalar(out, &v);
				break;
			case WJB_END_ARRAY:
				depth--;
				if (!raw_scalar)
					total += put(out, "]", 1);
				first = false;
				break;
			case WJB_END_OBJECT:
				depth--;
				total += put(out, "}", 1);
				first = false;
				break;
			default:
				elog(ERROR, "unknown jsonb iterator token type");
		}
	}
	return total;
}

/* Is the text of a jsonb container longer than limit bytes? */
bool
profile_jsonb_text_exceeds(JsonbContainer *c, size_t limit)
{
	int			depth;

	return text_walk(c, NULL, limit, &depth) > limit;
}

/*
 * As profile_jsonb_text_exceeds, in the same walk the depth of the
 * container (a flat object or array is 1): *max_depth, exact when the
 * answer is false.
 */
bool
profile_jsonb_measure(JsonbContainer *c, size_t limit, int *max_depth)
{
	return text_walk(c, NULL, limit, max_depth) > limit;
}

/* The text of a jsonb value, palloc'd; *len: its length. */
char	   *
profile_jsonb_text(Jsonb *jb, int *len)
{
	StringInfoData out;
	int			depth;

	initStringInfo(&out);
	enlargeStringInfo(&out, VARSIZE(jb));
	text_walk(&jb->root, &out, SIZE_MAX, &depth);
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
