/*-------------------------------------------------------------------------
 *
 * src/api/rowcheck.h
 *		The row trigger of profile_data.profiles (rowcheck.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_ROWCHECK_H
#define PROFILE_ROWCHECK_H

extern void profile_rowcheck_init(void);

#endif							/* PROFILE_ROWCHECK_H */
