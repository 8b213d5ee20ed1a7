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

#include "verdict.h"

struct config;
struct runtime;
struct session;

#define SESSION_MAX_HELO	255	/* bytes of HELO name kept */
#define SESSION_MAX_ADDR	512	/* bytes of an envelope address kept */
#define SESSION_MAX_RCPTS	1000	/* recipients remembered (more are counted) */

/*
 * session_new - a connection from a client; takes a reference to cfg and
 * uses the services of rt (which outlives the session)
 */
struct session *session_new(struct config *cfg, struct runtime *rt);
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

/*
 * session_sign_only - sign what is outbound and leave every other message
 * alone: not checked, nothing added (the CLI's sign command)
 */
void session_sign_only(struct session *s);

/*
 * session_set_trace - write what the checks of inbound messages do to t
 * (trace.h; the CLI's check --explain), NULL for none
 */
struct trace;
void session_set_trace(struct session *s, struct trace *t);

/* session_is_outbound - is the current message ours to sign? (after MAIL) */
bool session_is_outbound(const struct session *s);

/* verdict_clear - free what a verdict owns (the inbound results too) */
void verdict_clear(struct verdict *v);

#endif
