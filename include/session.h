/*
 * session.h - the engine: one SMTP connection and the messages on it, fed in
 * SMTP order by a front end (the milter or the command line), and the
 * verdict at the end of each message.
 *
 * The engine knows nothing of libmilter. The front end passes what the MTA
 * told it (client address, HELO, envelope, headers one by one, body chunks)
 * and applies what the engine returns: header removals and insertions, a
 * reply, a quarantine. The same input therefore gets the same answer from
 * the milter and from the CLI.
 *
 * Headers are kept, within the configured bounds (MaximumHeaders,
 * MaximumHeaderBytes); the body is never kept: it streams into the hash
 * contexts of the signatures being made or checked.
 *
 * Conventions: header values arrive as the MTA has them, which is the text
 * after the colon including any leading white space, with folded lines
 * joined by "\n" or "\r\n". Body chunks are in SMTP canonical form (CRLF
 * line ends), in chunks of any size.
 */
#ifndef AM_SESSION_H
#define AM_SESSION_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct session;

#define SESSION_MAX_HELO	255	/* bytes of HELO name kept */
#define SESSION_MAX_ADDR	512	/* bytes of an envelope address kept */
#define SESSION_MAX_ADDED	(8 + 2)	/* header insertions per message */
#define SESSION_MAX_RCPTS	1000	/* recipients remembered (more are counted) */
#define SESSION_MAX_REMOVED	16	/* header removals per message */

enum verdict_action {
	VERDICT_ACCEPT = 0,	/* deliver (with the header changes) */
	VERDICT_TEMPFAIL,	/* 4xx: the MTA keeps it and retries */
	VERDICT_REJECT,		/* 5xx */
	VERDICT_QUARANTINE,	/* deliver to the MTA's hold queue */
};

struct added_header {
	char	*name;
	char	*value;		/* folded with "\r\n\t"; front ends adapt */
	unsigned index;		/* position among the headers; 0 = top */
};

struct removed_header {
	char	*name;
	unsigned index;		/* 1 = the first field of that name, top down */
};

struct inbound_results;

struct verdict {
	enum verdict_action action;
	char		 rcode[4];	/* "451", "550" for TEMPFAIL/REJECT */
	char		 xcode[8];	/* "4.7.0" */
	char		*reason;	/* reply text / quarantine reason */
	struct added_header added[SESSION_MAX_ADDED];
	size_t		 nadded;
	/* removals are applied before insertions (indexes are the MTA's) */
	struct removed_header removed[SESSION_MAX_REMOVED];
	size_t		 nremoved;
	char		*summary;	/* the one log line for this message */
	struct inbound_results *results;	/* inbound checks; NULL if none */
};

/* session_new - a connection from a client; takes a reference to cfg */
struct session *session_new(struct config *cfg);
void session_free(struct session *s);
const struct config *session_config(const struct session *s);

/* session_connect - client host name and address (NULL address = local) */
void session_connect(struct session *s, const char *hostname,
    const char *addr);
void session_helo(struct session *s, const char *helo);
/*
 * session_mail - start a message: the MAIL FROM argument and, when the SMTP
 * session is authenticated, the authenticated user name (else NULL).
 */
void session_mail(struct session *s, const char *from, const char *auth_user);
void session_rcpt(struct session *s, const char *rcpt);
/* session_set_queueid - the MTA's queue id, for logs (may come late) */
void session_set_queueid(struct session *s, const char *qid);
/* session_header - one header field: name and value as described above */
void session_header(struct session *s, const char *name, const char *value);
/*
 * session_eoh - end of headers. Returns true when the engine needs the body,
 * false when the front end may skip it.
 */
bool session_eoh(struct session *s);
void session_body(struct session *s, const unsigned char *data, size_t len);
/*
 * session_eom - end of message: fill v (release with verdict_clear). The
 * message state is reset, ready for the next message on the connection.
 */
void session_eom(struct session *s, struct verdict *v);
/* session_abort - the MTA dropped the current message */
void session_abort(struct session *s);

/*
 * session_force_inbound - check every message of this session as inbound
 * mail, whatever the client (the CLI's check command).
 */
void session_force_inbound(struct session *s);

/* session_is_outbound - is the current message ours to sign? (after MAIL) */
bool session_is_outbound(const struct session *s);

void verdict_clear(struct verdict *v);
/* verdict_action_name - "accept", "tempfail", "reject", "quarantine" */
const char *verdict_action_name(enum verdict_action a);

#endif
