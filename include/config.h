/*
 * config.h - the configuration: one immutable object built from a key-value
 * file (authmilter.conf(5)), including the signing keys it names.
 *
 * A running daemon holds one current configuration. A reload (SIGHUP) builds
 * a new object and swaps it in; a message session keeps a reference to the
 * configuration it started with, so a reload never changes the rules in the
 * middle of a message. A configuration that fails to load is refused whole,
 * with "file:line: reason", and the old one stays in force.
 */
#ifndef AM_CONFIG_H
#define AM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hdrlist.h"

#define CONFIG_MAX_LINE		8192	/* bytes in one configuration line */
#define CONFIG_MAX_LINES	100000	/* lines in one configuration file */
#define CONFIG_ERRLEN		1024	/* room for one "file:line: reason" */

/* Defaults, also documented in authmilter.conf(5). */
#define CONFIG_DEFAULT_FILE		SYSCONFDIR "/authmilter.conf"
#define CONFIG_DEFAULT_SOCKET		"local:/run/authmilter/authmilter.sock"
#define CONFIG_DEFAULT_INTERNAL		"127.0.0.0/8, ::1"
#define CONFIG_DEFAULT_MAX_HEADERS	1000
#define CONFIG_DEFAULT_MAX_HDR_BYTES	(1024 * 1024)
#define CONFIG_DEFAULT_SHUTDOWN_SECS	60
#define CONFIG_DEFAULT_MIN_KEY_BITS	1024

enum on_error {
	ON_ERROR_TEMPFAIL = 0,	/* 451 4.7.0: the MTA keeps the message and retries */
	ON_ERROR_ACCEPT,	/* pass the message on untouched */
	ON_ERROR_REJECT,	/* 550 5.7.0 */
};

struct netlist;
struct keytable;
struct signtable;
struct sign_ctx;

struct config {
	char		*path;		/* file it was loaded from */

	/* daemon */
	char		*socket;	/* libmilter connection spec */
	mode_t		 umask;		/* applied before the socket is created */
	bool		 umask_set;
	char		*userid;	/* "user" or "user:group"; NULL = stay */
	char		*pidfile;
	bool		 syslog;
	int		 syslog_facility;
	bool		 log_why;	/* log why a message was not signed */
	unsigned	 shutdown_timeout;	/* seconds to wait for sessions on SIGTERM */
	char		*authserv_id;	/* NULL = host name */

	/* which mail is ours to sign */
	struct netlist	*internal_hosts;

	/* signing */
	struct keytable	*keytable;	/* always present; may be empty */
	struct signtable *signtable;	/* NULL when no table and no Domain */
	bool		 multiple_signatures;
	int		 hdr_canon;	/* DKIM_CANON_* */
	int		 body_canon;
	struct hdrlist	 sign_headers;
	struct hdrlist	 oversign_headers;
	bool		 require_safe_keys;
	unsigned	 minimum_key_bits;

	/* input bounds */
	unsigned	 max_headers;
	size_t		 max_header_bytes;

	/* failure handling */
	enum on_error	 on_internal_error;
	enum on_error	 on_bad_message;	/* several From, no From ... when signing */

	struct sign_ctx	*sign;		/* libopendkim handle built for this config */

	/* reference count; see config_ref() */
	int		 refs;
};

/*
 * config_load - read and check path, load the keys it names, and return a
 * new configuration with one reference. On failure returns NULL and writes
 * "file:line: reason" into err (errlen >= CONFIG_ERRLEN recommended).
 */
struct config *config_load(const char *path, char *err, size_t errlen);
/* config_defaults - a configuration with every default and no keys */
struct config *config_defaults(void);

struct config *config_ref(struct config *cfg);
void config_unref(struct config *cfg);

/*
 * The current configuration of a running daemon. config_current() returns a
 * new reference (release with config_unref). config_install() makes cfg
 * current, taking over the caller's reference, and drops the old one.
 */
struct config *config_current(void);
void config_install(struct config *cfg);

/* config_socket_path - the file of a unix Socket spec, NULL for inet */
const char *config_socket_path(const char *spec);

/* config_on_error_name - "tempfail", "accept" or "reject" */
const char *config_on_error_name(enum on_error e);

#endif
