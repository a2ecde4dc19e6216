/*-------------------------------------------------------------------------
 *
 * src/base/rowinsert.h
 *		Inserting one row through the executor without a statement
 *		(rowinsert.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_ROWINSERT_H
#define PROFILE_ROWINSERT_H

#include "utils/relcache.h"

/*
 * A table of profile_data and the columns a caller gives, in its order,
 * with the types of its values; the rest is worked out on first use.  Static, one per kind of row.
 */
typedef struct RowTable
{
	const char *relname;
	int			ncols;
	const char *const *cols;
	const Oid  *types;			/* of the caller's values */
	/* worked out on first use, and after a change of the table */
	bool		registered;
	bool		valid;
	bool		usable;			/* no statement needed */
	Oid			relid;
	int			natts;
	int		   *col_att;		/* per column given: its attribute, from 0 */
	int			serial_att;		/* a column filled from a sequence, or -1 */
	Oid			serial_seq;
} RowTable;

/* Rows being written into one table, as by one statement */
typedef struct RowWriter
{
	RowTable   *t;
	Relation	rel;
	struct EState *estate;
	struct ResultRelInfo *rri;
	struct TupleTableSlot *slot;
} RowWriter;

extern bool profile_rows_begin(RowTable *t, RowWriter *w);
extern void profile_rows_put(RowWriter *w, const Datum *values, const char *nulls);
extern void profile_rows_end(RowWriter *w);
extern bool profile_row_insert(RowTable *t, const Datum *values, const char *nulls);
extern void profile_raise_row_skipped(const char *relname) pg_attribute_noreturn();

#endif							/* PROFILE_ROWINSERT_H */
