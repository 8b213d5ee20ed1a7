/*
 * NAME
 *	fuzz_message - libFuzzer harness of message.c: the message reader
 *	of the command line (authmilter check, sign)
 * SYNOPSIS
 *	fuzz_message [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a whole message, read by message_read() from a memory
 *	stream (fmemopen) into a sink that checks what an MTA would hand a
 *	milter: each header field as a name (printable ASCII, no colon, not
 *	empty) and a value; then the body in chunks of at most
 *	MESSAGE_CHUNK bytes, in CRLF form: every LF preceded by CR, across
 *	chunk boundaries too. Inputs whose first byte is even ask for the
 *	body; the others do not (eoh returns false), as a session that
 *	needs no body does.
 *
 *	Since the reader only re-frames the message, the body it hands on
 *	is checked against the input: with CRs taken out of both, it is the
 *	input from where a small reference reader of this harness says the
 *	body starts.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "message.h"

/* What the sink saw. */
struct fuzz_msg {
	size_t		 headers;
	bool		 eoh;
	bool		 want_body;
	bool		 prev_cr;	/* the last body byte was CR */
	unsigned char	*body;		/* body bytes other than CR */
	size_t		 body_len;
	size_t		 body_cap;
	size_t		 chunks;
};

/* fuzz_msg_header - one field: a valid name, a value, before eoh */
static void
fuzz_msg_header(void *arg, const char *name, const char *value)
{
	struct fuzz_msg *m = arg;

	FUZZ_CHECK(!m->eoh);
	FUZZ_CHECK(name[0] != '\0' && value != NULL);
	for (const char *p = name; *p != '\0'; p++)
		FUZZ_CHECK(*p > ' ' && *p < 127 && *p != ':');
	(void)strlen(value);
	m->headers++;
}

/* fuzz_msg_eoh - end of headers, once */
static bool
fuzz_msg_eoh(void *arg)
{
	struct fuzz_msg *m = arg;

	FUZZ_CHECK(!m->eoh);
	m->eoh = true;
	return m->want_body;
}

/* fuzz_msg_body - a chunk: bounded, CRLF line ends */
static void
fuzz_msg_body(void *arg, const unsigned char *data, size_t len)
{
	struct fuzz_msg *m = arg;

	FUZZ_CHECK(m->eoh && m->want_body);
	FUZZ_CHECK(len > 0 && len <= MESSAGE_CHUNK);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n')
			FUZZ_CHECK(m->prev_cr);
		m->prev_cr = data[i] == '\r';
		if (data[i] == '\r')
			continue;
		FUZZ_CHECK(m->body_len < m->body_cap);
		m->body[m->body_len++] = data[i];
	}
	m->chunks++;
}

/* fuzz_msg_name_len - the field name's length if the line is a header */
static size_t
fuzz_msg_name_len(const uint8_t *l, size_t len)
{
	size_t n = 0;

	while (n < len && l[n] > ' ' && l[n] < 127 && l[n] != ':')
		n++;
	if (n == 0)
		return 0;
	while (n < len && (l[n] == ' ' || l[n] == '\t'))
		n++;
	return n < len && l[n] == ':' ? n : 0;
}

/*
 * fuzz_msg_body_start - where the body starts, found independently: after
 * the first empty line, or at the first line that is neither a header
 * line nor the continuation of one
 */
static size_t
fuzz_msg_body_start(const uint8_t *d, size_t size)
{
	size_t pos = 0, e, clen;
	bool field = false;

	while (pos < size) {
		const uint8_t *nl = memchr(d + pos, '\n', size - pos);

		e = nl != NULL ? (size_t)(nl - d) : size;
		clen = e - pos;
		if (clen > 0 && d[e - 1] == '\r')
			clen--;
		if (clen == 0)
			return e < size ? e + 1 : size;
		if (!((d[pos] == ' ' || d[pos] == '\t') && field)) {
			if (fuzz_msg_name_len(d + pos, clen) == 0)
				return pos;
			field = true;
		}
		pos = e < size ? e + 1 : size;
	}
	return size;
}

/* LLVMFuzzerTestOneInput - read one message */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_msg m;
	struct message_sink sink = {
		fuzz_msg_header, fuzz_msg_eoh, fuzz_msg_body, &m
	};
	char err[256];
	bool crlf, ok;
	FILE *fp;

	if (size == 0)
		return 0;
	memset(&m, 0, sizeof(m));
	m.want_body = (data[0] & 1) == 0;
	m.body_cap = size;
	m.body = malloc(m.body_cap);
	FUZZ_CHECK(m.body != NULL);
	fp = fmemopen((void *)data, size, "r");
	FUZZ_CHECK(fp != NULL);
	ok = message_read(fp, &sink, &crlf, err, sizeof(err));
	fclose(fp);
	if (!ok) {
		free(m.body);
		return 0;
	}
	FUZZ_CHECK(m.eoh);
	if (!m.want_body)
		FUZZ_CHECK(m.chunks == 0);
	else {
		size_t i = fuzz_msg_body_start(data, size), k = 0;

		for (; i < size; i++)
			if (data[i] != '\r') {
				FUZZ_CHECK(k < m.body_len &&
				    m.body[k] == data[i]);
				k++;
			}
		FUZZ_CHECK(k == m.body_len);
	}
	free(m.body);
	return 0;
}
