/*
 * NAME
 *	message - read an RFC 5322 message and feed it as an MTA would
 * SYNOPSIS
 *	#include "message.h"
 *
 *	bool message_read(fp, sink, crlf, err, errlen)
 * DESCRIPTION
 *	The command line front end uses this to give the engine exactly what
 *	Postfix would give the milter for the same message: each header field
 *	as name and value (the value is the text after the colon, leading
 *	space included, folded lines joined by "\n"), then the body with CRLF
 *	line ends in chunks of at most MESSAGE_CHUNK bytes.
 *
 *	A header line is a field name (printable ASCII except ':'), optional
 *	blanks, and a colon. The first line that is neither a header line nor
 *	a continuation line ends the header section; an empty line ends it
 *	and is not part of the body.
 * DIAGNOSTICS
 *	false with a reason on a read error or a header field larger than
 *	MESSAGE_MAX_HEADER_BYTES.
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "message.h"
#include "session.h"
#include "util.h"

/* Reading state shared by the two phases. */
struct reader {
	FILE		*fp;
	struct buf	 line;		/* the current line, line end stripped */
	bool		 eof;
	bool		 had_lf;	/* the line ended with LF */
	bool		 crlf_seen;	/* the first line ended with CRLF */
	bool		 first;
};

/* reader_line - read one line (bounded); false at end of input or on error */
static bool
reader_line(struct reader *r, char *err, size_t errlen)
{
	int c;

	buf_reset(&r->line);
	r->had_lf = false;
	while ((c = getc(r->fp)) != EOF) {
		if (c == '\n') {
			r->had_lf = true;
			break;
		}
		if (r->line.len >= MESSAGE_MAX_HEADER_BYTES) {
			snprintf(err, errlen, "a header line is longer than %d "
			    "bytes", MESSAGE_MAX_HEADER_BYTES);
			return false;
		}
		buf_putc(&r->line, (char)c);
	}
	if (c == EOF && r->line.len == 0) {
		r->eof = true;
		return false;
	}
	if (r->line.len > 0 && r->line.data[r->line.len - 1] == '\r') {
		if (r->first)
			r->crlf_seen = true;
		r->line.data[--r->line.len] = '\0';
	}
	r->first = false;
	return true;
}

/* message_header_name_len - length of the field name if line is a header */
static size_t
message_header_name_len(const char *line, size_t len)
{
	size_t n = 0, i;

	while (n < len && line[n] > ' ' && line[n] < 127 && line[n] != ':')
		n++;
	if (n == 0)
		return 0;
	for (i = n; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	return i < len && line[i] == ':' ? n : 0;
}

/* message_emit - pass a complete header field to the sink */
static void
message_emit(const struct message_sink *sink, struct buf *field)
{
	size_t n;

	if (field->len == 0)
		return;
	n = message_header_name_len(field->data, field->len);
	if (sink->header) {
		char *colon = memchr(field->data, ':', field->len);

		field->data[n] = '\0';
		sink->header(sink->arg, field->data, colon + 1);
	}
	buf_reset(field);
}

/* message_body_chunk - feed body bytes, turning bare LF into CRLF */
static void
message_body_bytes(const struct message_sink *sink, struct buf *out,
    const char *data, size_t len, bool *prev_cr)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && !*prev_cr)
			buf_putc(out, '\r');
		buf_putc(out, data[i]);
		*prev_cr = data[i] == '\r';
		if (out->len >= MESSAGE_CHUNK - 1) {
			if (sink->body)
				sink->body(sink->arg,
				    (const unsigned char *)out->data, out->len);
			buf_reset(out);
		}
	}
}

/* message_read_body - stream the rest of the input as the body */
static bool
message_read_body(struct reader *r, const struct message_sink *sink,
    const char *first, size_t firstlen, char *err, size_t errlen)
{
	char chunk[MESSAGE_CHUNK];
	struct buf out;
	bool prev_cr = false;
	size_t n;

	buf_init(&out);
	if (first != NULL) {
		message_body_bytes(sink, &out, first, firstlen, &prev_cr);
		message_body_bytes(sink, &out, "\r\n", r->had_lf ? 2 : 0,
		    &prev_cr);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), r->fp)) > 0)
		message_body_bytes(sink, &out, chunk, n, &prev_cr);
	if (out.len > 0 && sink->body)
		sink->body(sink->arg, (const unsigned char *)out.data, out.len);
	buf_free(&out);
	if (ferror(r->fp)) {
		snprintf(err, errlen, "read error");
		return false;
	}
	return true;
}

/* message_read - parse the message in fp and feed the sink */
bool
message_read(FILE *fp, const struct message_sink *sink, bool *crlf,
    char *err, size_t errlen)
{
	struct reader r = { .fp = fp, .first = true };
	struct buf field;
	bool ok = true, body_first = false;

	buf_init(&r.line);
	buf_init(&field);
	while (ok && (ok = reader_line(&r, err, errlen))) {
		const char *l = r.line.data;

		if (r.line.len == 0)
			break;			/* end of the header section */
		if ((l[0] == ' ' || l[0] == '\t') && field.len > 0) {
			if (field.len + r.line.len >= MESSAGE_MAX_HEADER_BYTES) {
				snprintf(err, errlen, "a header field is "
				    "longer than %d bytes",
				    MESSAGE_MAX_HEADER_BYTES);
				ok = false;
				break;
			}
			buf_putc(&field, '\n');
			buf_append(&field, l, r.line.len);
			continue;
		}
		message_emit(sink, &field);
		if (message_header_name_len(l, r.line.len) == 0) {
			body_first = true;	/* not a header: body starts */
			break;
		}
		buf_append(&field, l, r.line.len);
	}
	if (!ok && r.eof)
		ok = true;			/* the input ended in the headers */
	if (ok) {
		bool body_wanted;

		message_emit(sink, &field);
		body_wanted = sink->eoh ? sink->eoh(sink->arg) : true;
		if (body_wanted)
			ok = message_read_body(&r, sink,
			    body_first ? r.line.data : NULL, r.line.len, err,
			    errlen);
	}
	*crlf = r.crlf_seen;
	buf_free(&r.line);
	buf_free(&field);
	return ok;
}

/* The sink that feeds a session. */
static void
message_sess_header(void *arg, const char *name, const char *value)
{
	session_header(arg, name, value);
}

static bool
message_sess_eoh(void *arg)
{
	return session_eoh(arg);
}

static void
message_sess_body(void *arg, const unsigned char *data, size_t len)
{
	session_body(arg, data, len);
}

/* message_session_sink - set up sink to feed the session s */
void
message_session_sink(struct session *s, struct message_sink *sink)
{
	sink->header = message_sess_header;
	sink->eoh = message_sess_eoh;
	sink->body = message_sess_body;
	sink->arg = s;
}
