/*-------------------------------------------------------------------------
 *
 * src/base/spi.h
 *		Running our SQL: saved plans, reading their results, and acting as
 *		the owner of profile_data (spi.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_SPI_H
#define PROFILE_SPI_H

#include "executor/spi.h"

/*
 * A statement of ours, prepared on first use and kept for the backend's
 * life.  Every statement of the extension is one of these; none is built
 * from input.
 */
typedef struct SavedPlan
{
	const char *sql;
	int			nargs;
	Oid			argtypes[64];
	SPIPlanPtr	plan;
} SavedPlan;

extern bool profile_user_owns(Relation rel);
extern int	profile_exec(SavedPlan *p, Datum *values, const char *nulls,
						 bool read_only, long count);
extern int	profile_exec_latest(SavedPlan *p, Datum *values, const char *nulls,
								bool read_only, long count);
extern Portal profile_cursor_open(SavedPlan *p, Datum *values, const char *nulls);

extern Datum profile_spi_value(uint64 row, int col, bool *isnull);
extern Datum profile_spi_required(uint64 row, int col, const char *table);
extern char *profile_spi_text(uint64 row, int col, const char *table);
extern const uint8 *profile_spi_hash(uint64 row, int col, const char *table);
extern const uint8 *profile_spi_hash_required(uint64 row, int col, const char *table);

/*
 * A stretch of code that acts as the owner of profile_data: SPI connected,
 * the owner's user id under SECURITY_RESTRICTED_OPERATION, and
 * search_path = pg_catalog, pg_temp.
 */
typedef struct OwnerSection
{
	Oid			save_userid;
	int			save_sec_context;
	int			guc_nestlevel;	/* 0: search_path was safe already */
} OwnerSection;

extern void profile_owner_begin(OwnerSection *s);
extern void profile_owner_end(OwnerSection *s);
extern void profile_spi_init(void);
extern char *profile_unshard_name(const char *name);
extern bool profile_citus(void);

#endif							/* PROFILE_SPI_H */
