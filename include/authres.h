/*
 * authres.h - the Authentication-Results header field (RFC 8601): building
 * ours, and recognising existing ones that claim our authserv-id.
 *
 * authres_format() gives the field value without the leading space, folded
 * with "\r\n\t" so no line is longer than AUTHRES_FOLD_AT where a break is
 * possible (breaks go between resinfo clauses and between properties).
 */
#ifndef AM_AUTHRES_H
#define AM_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#define AUTHRES_FOLD_AT		78	/* preferred line length */
#define AUTHRES_MAX_RESULTS	32	/* resinfo clauses in one header */
#define AUTHRES_MAX_PROPS	6	/* properties per resinfo */
#define AUTHRES_MAX_VALUE	1024	/* bytes of one property value kept */
#define AUTHRES_MAX_PARSED	32	/* resinfo clauses read from one field */
#define AUTHRES_MAX_PPROPS	16	/* properties read per resinfo */
#define AUTHRES_MAX_PARSE_INPUT	(64 * 1024)	/* bytes of a field read */

struct authres;

struct authres *authres_new(const char *authserv_id);
void authres_free(struct authres *ar);

/*
 * authres_add - one resinfo: method ("spf", "dkim", "dmarc"), result
 * ("pass"...), an optional comment (reason; NULL for none) and properties
 * as (name, value) pairs ending with NULL: "header.d", "example.com",
 * "smtp.mailfrom", "a@b", NULL. Values that are not a token or an
 * addr-spec are quoted; comments are escaped. Beyond AUTHRES_MAX_RESULTS
 * clauses are dropped.
 */
void authres_add(struct authres *ar, const char *method, const char *result,
    const char *comment, ...) __attribute__((sentinel));

/*
 * authres_add_list - authres_add() with the n properties in two arrays
 * (names[i], values[i]); a NULL value leaves its property out
 */
void authres_add_list(struct authres *ar, const char *method,
    const char *result, const char *comment, const char *const *names,
    const char *const *values, size_t n);

/* authres_format - the field value (malloc'd); "id; none" when empty */
char *authres_format(const struct authres *ar);
/*
 * authres_format_arc - the value of an ARC-Authentication-Results field
 * (RFC 8617 4.1.1): "i=N; " and the same clauses; comments only when
 * comments is true (Microsoft 365 misreads them)
 */
char *authres_format_arc(const struct authres *ar, unsigned instance,
    bool comments);

/*
 * authres_servid_matches - does this Authentication-Results value (as the
 * MTA gave it: leading white space, comments, folding allowed) carry
 * authserv_id? Case-insensitive; a version after the id is allowed.
 */
bool authres_servid_matches(const char *value, const char *authserv_id);

/*
 * What authres_parse() read from a field: the authserv-id ("" when the
 * field has none), its version ("" when none), and the resinfo clauses
 * ("none" gives no clause). Names are lower case; values unquoted.
 */
struct authres_pprop {
	const char	*name;		/* "header.from", "reason", "dara" */
	const char	*value;
};

struct authres_presult {
	const char	*method;	/* "dmarc", without a "/version" */
	const char	*result;	/* "pass" */
	struct authres_pprop prop[AUTHRES_MAX_PPROPS];
	size_t		 nprop;
};

struct authres_parsed {
	const char	*servid;
	const char	*version;
	struct authres_presult res[AUTHRES_MAX_PARSED];
	size_t		 nres;
	char		*store;		/* private: the strings */
};

/*
 * authres_parse - read an Authentication-Results value written by anyone
 * (tolerant: see authres.c); false when neither an authserv-id nor a
 * clause could be read. Release with authres_parsed_free() in every case.
 */
bool authres_parse(const char *value, struct authres_parsed *out);
void authres_parsed_free(struct authres_parsed *out);
/* authres_parsed_prop - a property's value in a clause (any case), or NULL */
const char *authres_parsed_prop(const struct authres_presult *r,
    const char *name);

#endif
