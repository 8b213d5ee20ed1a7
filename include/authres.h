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

/* authres_format - the field value (malloc'd); "id; none" when empty */
char *authres_format(const struct authres *ar);

/*
 * authres_servid_matches - does this Authentication-Results value (as the
 * MTA gave it: leading white space, comments, folding allowed) carry
 * authserv_id? Case-insensitive; a version after the id is allowed.
 */
bool authres_servid_matches(const char *value, const char *authserv_id);

#endif
