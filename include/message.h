/*
 * message.h - reading an RFC 5322 message from a file or stdin and feeding it
 * to a session the way an MTA would: header fields one by one (unfolded into
 * name and value exactly as Postfix passes them to a milter), then the body
 * in CRLF form, streamed in bounded chunks.
 *
 * Like Postfix, a line that is not a header field (no colon after a valid
 * field name) ends the header section and starts the body. Bare LF line ends
 * are turned into CRLF in the body, as SMTP would have them.
 */
#ifndef AM_MESSAGE_H
#define AM_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define MESSAGE_MAX_HEADER_BYTES	(4 * 1024 * 1024)	/* one header field */
#define MESSAGE_CHUNK			65535	/* body chunk size, as Postfix uses */

struct session;

/* Callbacks for a parsed message; any may be NULL. */
struct message_sink {
	void	(*header)(void *arg, const char *name, const char *value);
	bool	(*eoh)(void *arg);	/* returns whether the body is wanted */
	void	(*body)(void *arg, const unsigned char *data, size_t len);
	void	 *arg;
};

/*
 * message_read - parse fp, calling the sink. Returns false on a read error
 * or when a header field exceeds MESSAGE_MAX_HEADER_BYTES (with a reason in
 * err). *crlf tells whether the input used CRLF line ends (first line).
 */
bool message_read(FILE *fp, const struct message_sink *sink, bool *crlf,
    char *err, size_t errlen);

/* message_session_sink - set up sink to feed the session s */
void message_session_sink(struct session *s, struct message_sink *sink);

#endif
