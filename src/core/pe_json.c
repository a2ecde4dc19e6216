/*-------------------------------------------------------------------------
 *
 * src/core/pe_json.c
 *		A look at JSON text before it is parsed.
 *
 * PostgreSQL's JSON parser is recursive: text nested a hundred thousand
 * levels deep ends in "stack depth limit exceeded" (54001) rather than in
 * the contract's error.  pe_json_depth_exceeds measures the nesting of JSON
 * text in one linear pass with no recursion and no allocation, so a string
 * that is too deep is refused before it is parsed.  It does not validate:
 * the parser still does that.
 *
 *-------------------------------------------------------------------------
 */
#include "pe_json.h"

bool
pe_json_depth_exceeds(const char *s, size_t len, int limit)
{
	int			depth = 0;
	bool		in_string = false;

	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (in_string)
		{
			if (c == '\\')
				i++;			/* the escaped character cannot end the string */
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{')
		{
			if (++depth > limit)
				return true;
		}
		else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	return false;
}
