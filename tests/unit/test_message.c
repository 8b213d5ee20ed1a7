/*
 * test_message.c - unit tests for message.c: message_read() with a sink
 * that records what it is given. Header fields must arrive as Postfix
 * passes them to a milter (the value is the text after the colon, leading
 * space included, folded lines joined by "\n" with the continuation's
 * white space kept), the body in CRLF form in chunks of at most
 * MESSAGE_CHUNK bytes, and the order must be headers, end of headers,
 * body.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"

#define ERRLEN		512
#define MAX_HDRS	64
#define BIG_BODY	200000	/* bytes: several chunks */

/* What the recording sink saw. */
struct rec {
	char		*name[MAX_HDRS];
	char		*value[MAX_HDRS];
	size_t		 nhdrs;
	unsigned	 neoh;
	bool		 eoh_answer;	/* what eoh returns */
	unsigned char	*body;
	size_t		 bodylen;
	size_t		 nchunks;
	size_t		 maxchunk;
	bool		 order_bad;	/* a header after eoh, body before it */
};

static void
rec_header(void *arg, const char *name, const char *value)
{
	struct rec *r = arg;

	if (r->neoh > 0 || r->nchunks > 0)
		r->order_bad = true;
	assert_true(r->nhdrs < MAX_HDRS);
	r->name[r->nhdrs] = strdup(name);
	r->value[r->nhdrs] = strdup(value);
	assert_non_null(r->name[r->nhdrs]);
	assert_non_null(r->value[r->nhdrs]);
	r->nhdrs++;
}

static bool
rec_eoh(void *arg)
{
	struct rec *r = arg;

	if (r->nchunks > 0)
		r->order_bad = true;
	r->neoh++;
	return r->eoh_answer;
}

static void
rec_body(void *arg, const unsigned char *data, size_t len)
{
	struct rec *r = arg;

	if (r->neoh != 1)
		r->order_bad = true;
	assert_true(len > 0);
	r->body = realloc(r->body, r->bodylen + len + 1);
	assert_non_null(r->body);
	memcpy(r->body + r->bodylen, data, len);
	r->bodylen += len;
	r->body[r->bodylen] = '\0';
	r->nchunks++;
	if (len > r->maxchunk)
		r->maxchunk = len;
}

static void
rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->nhdrs; i++) {
		free(r->name[i]);
		free(r->value[i]);
	}
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * run - parse len bytes of input with a recording sink; returns what
 * message_read returned. crlf and err may be NULL when not of interest.
 */
static bool
run(const void *input, size_t len, bool eoh_answer, struct rec *r,
    bool *crlfp, char *err)
{
	struct message_sink sink = { rec_header, rec_eoh, rec_body, r };
	char ebuf[ERRLEN] = "";
	bool crlf = false, ok;
	FILE *fp = tmpfile();

	assert_non_null(fp);
	assert_int_equal(fwrite(input, 1, len, fp), len);
	rewind(fp);
	memset(r, 0, sizeof(*r));
	r->eoh_answer = eoh_answer;
	ok = message_read(fp, &sink, &crlf, err ? err : ebuf, ERRLEN);
	fclose(fp);
	if (crlfp)
		*crlfp = crlf;
	return ok;
}

/* run_ok - parse a string that must parse; checks the event order */
static void
run_ok(const char *input, struct rec *r, bool *crlfp)
{
	char err[ERRLEN] = "";

	if (!run(input, strlen(input), true, r, crlfp, err))
		fail_msg("message_read failed: %s", err);
	assert_int_equal(r->neoh, 1);
	assert_false(r->order_bad);
}

static void
hdr_is(const struct rec *r, size_t i, const char *name, const char *value)
{
	assert_true(i < r->nhdrs);
	assert_string_equal(r->name[i], name);
	assert_string_equal(r->value[i], value);
}

static void
body_is(const struct rec *r, const char *body)
{
	assert_int_equal(r->bodylen, strlen(body));
	if (r->bodylen)
		assert_memory_equal(r->body, body, r->bodylen);
}

/* --- header fields ------------------------------------------------------ */

static void
test_simple_lf(void **state)
{
	struct rec r;
	bool crlf = true;

	(void)state;
	run_ok("From: Alice <alice@example.com>\n"
	    "To: bob@example.net\n"
	    "Subject:  two spaces, one after \n"
	    "X-Tight:value\n"
	    "X-Empty:\n"
	    "\n"
	    "Hello.\n", &r, &crlf);
	assert_false(crlf);
	assert_int_equal(r.nhdrs, 5);
	hdr_is(&r, 0, "From", " Alice <alice@example.com>");
	hdr_is(&r, 1, "To", " bob@example.net");
	hdr_is(&r, 2, "Subject", "  two spaces, one after ");
	hdr_is(&r, 3, "X-Tight", "value");
	hdr_is(&r, 4, "X-Empty", "");
	body_is(&r, "Hello.\r\n");
	rec_free(&r);
}

static void
test_simple_crlf(void **state)
{
	struct rec r;
	bool crlf = false;

	(void)state;
	run_ok("From: alice@example.com\r\n"
	    "Subject: hi\r\n"
	    "\r\n"
	    "line 1\r\n"
	    "line 2\r\n", &r, &crlf);
	assert_true(crlf);
	assert_int_equal(r.nhdrs, 2);
	hdr_is(&r, 0, "From", " alice@example.com");
	hdr_is(&r, 1, "Subject", " hi");
	body_is(&r, "line 1\r\nline 2\r\n");
	rec_free(&r);
}

/* folded lines are joined by "\n", the continuation's blanks kept */
static void
test_folded(void **state)
{
	static const char *const inputs[] = {
		"Subject: one\n two\n\tthree\nTo: x@example.com\n\nb\n",
		"Subject: one\r\n two\r\n\tthree\r\nTo: x@example.com\r\n\r\n"
		    "b\r\n",
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct rec r;

		run_ok(inputs[i], &r, NULL);
		assert_int_equal(r.nhdrs, 2);
		hdr_is(&r, 0, "Subject", " one\n two\n\tthree");
		hdr_is(&r, 1, "To", " x@example.com");
		body_is(&r, "b\r\n");
		rec_free(&r);
	}
}

/* a value that starts on the next line, and a fold of blanks only */
static void
test_folded_edge(void **state)
{
	struct rec r;

	(void)state;
	run_ok("References:\n  <a@example.com>\n  <b@example.com>\n"
	    "X-A: a\n   \nX-B: b\n\n", &r, NULL);
	assert_int_equal(r.nhdrs, 3);
	hdr_is(&r, 0, "References", "\n  <a@example.com>\n  <b@example.com>");
	hdr_is(&r, 1, "X-A", " a\n   ");
	hdr_is(&r, 2, "X-B", " b");
	body_is(&r, "");
	rec_free(&r);
}

/* obsolete syntax: white space between the name and the colon */
static void
test_obsolete_colon(void **state)
{
	struct rec r;

	(void)state;
	run_ok("Subject : spaced\nX-Tab\t:tabbed\nTo: t@example.com\n\n", &r,
	    NULL);
	assert_int_equal(r.nhdrs, 3);
	hdr_is(&r, 0, "Subject", " spaced");
	hdr_is(&r, 1, "X-Tab", "tabbed");
	hdr_is(&r, 2, "To", " t@example.com");
	rec_free(&r);
}

/* a colon in the value does not confuse the name */
static void
test_colon_in_value(void **state)
{
	struct rec r;

	(void)state;
	run_ok("Date: Mon, 1 Jan 2026 10:11:12 +0000\n\n", &r, NULL);
	hdr_is(&r, 0, "Date", " Mon, 1 Jan 2026 10:11:12 +0000");
	rec_free(&r);
}

/* a line that is not a header field starts the body and belongs to it */
static void
test_non_header_starts_body(void **state)
{
	struct rec r;

	(void)state;
	run_ok("From: a@example.com\n"
	    "this is not a header\n"
	    "To: b@example.com\n"
	    "\n"
	    "x\n", &r, NULL);
	assert_int_equal(r.nhdrs, 1);
	hdr_is(&r, 0, "From", " a@example.com");
	body_is(&r, "this is not a header\r\nTo: b@example.com\r\n\r\nx\r\n");
	rec_free(&r);

	/* the same with CRLF input */
	run_ok("From: a@example.com\r\nnot: a header? no, \"not\" is\r\n"
	    "no colon here\r\nrest\r\n", &r, NULL);
	assert_int_equal(r.nhdrs, 2);
	hdr_is(&r, 1, "not", " a header? no, \"not\" is");
	body_is(&r, "no colon here\r\nrest\r\n");
	rec_free(&r);

	/* a line starting with a colon has no field name */
	run_ok("From: a@example.com\n:oops\n", &r, NULL);
	assert_int_equal(r.nhdrs, 1);
	body_is(&r, ":oops\r\n");
	rec_free(&r);

	/* a name with a space in it is not a name */
	run_ok("From: a@example.com\nBad Name: x\n", &r, NULL);
	assert_int_equal(r.nhdrs, 1);
	body_is(&r, "Bad Name: x\r\n");
	rec_free(&r);

	/* the first body line without a line end stays without one */
	run_ok("From: a@example.com\nno line end", &r, NULL);
	body_is(&r, "no line end");
	rec_free(&r);
}

/* a continuation line before any header is not a header */
static void
test_leading_continuation(void **state)
{
	struct rec r;

	(void)state;
	run_ok(" indented\nFrom: a@example.com\n", &r, NULL);
	assert_int_equal(r.nhdrs, 0);
	body_is(&r, " indented\r\nFrom: a@example.com\r\n");
	rec_free(&r);
}

static void
test_empty_body(void **state)
{
	struct rec r;

	(void)state;
	run_ok("From: a@example.com\n\n", &r, NULL);
	assert_int_equal(r.nhdrs, 1);
	assert_int_equal(r.bodylen, 0);
	assert_int_equal(r.nchunks, 0);
	rec_free(&r);

	run_ok("From: a@example.com\r\n\r\n", &r, NULL);
	assert_int_equal(r.bodylen, 0);
	rec_free(&r);
}

/* no blank line at all: everything is headers, up to the end of input */
static void
test_headers_to_eof(void **state)
{
	struct rec r;

	(void)state;
	run_ok("From: a@example.com\nSubject: s\n folded", &r, NULL);
	assert_int_equal(r.nhdrs, 2);
	hdr_is(&r, 0, "From", " a@example.com");
	hdr_is(&r, 1, "Subject", " s\n folded");
	assert_int_equal(r.bodylen, 0);
	rec_free(&r);

	run_ok("From: a@example.com\nTo: b@example.com\n", &r, NULL);
	assert_int_equal(r.nhdrs, 2);
	assert_int_equal(r.bodylen, 0);
	rec_free(&r);
}

static void
test_empty_input(void **state)
{
	struct rec r;
	bool crlf = true;

	(void)state;
	run_ok("", &r, &crlf);
	assert_false(crlf);
	assert_int_equal(r.nhdrs, 0);
	assert_int_equal(r.bodylen, 0);
	rec_free(&r);

	run_ok("\n\n", &r, NULL);
	assert_int_equal(r.nhdrs, 0);
	body_is(&r, "\r\n");
	rec_free(&r);
}

/* --- the body ----------------------------------------------------------- */

static void
test_body_lf_to_crlf(void **state)
{
	struct rec r;

	(void)state;
	run_ok("From: a@example.com\n\na\nb\n\n\nc", &r, NULL);
	body_is(&r, "a\r\nb\r\n\r\n\r\nc");
	rec_free(&r);
}

static void
test_body_crlf_kept(void **state)
{
	struct rec r;

	(void)state;
	run_ok("From: a@example.com\r\n\r\na\r\n\r\nb\r\n", &r, NULL);
	body_is(&r, "a\r\n\r\nb\r\n");
	rec_free(&r);

	/* mixed line ends; a bare CR is kept as it is */
	run_ok("From: a@example.com\n\nx\r\ny\nz\rw\n", &r, NULL);
	body_is(&r, "x\r\ny\r\nz\rw\r\n");
	rec_free(&r);
}

/* crlf_of - the CRLF form of a body given with LF line ends */
static char *
crlf_of(const char *lf, size_t len, size_t *outlen)
{
	char *out = malloc(2 * len + 1);
	size_t n = 0;

	assert_non_null(out);
	for (size_t i = 0; i < len; i++) {
		if (lf[i] == '\n' && (i == 0 || lf[i - 1] != '\r'))
			out[n++] = '\r';
		out[n++] = lf[i];
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/* check_big - a body of len bytes given with LF or CRLF line ends */
static void
check_big(size_t len, bool use_crlf, size_t line)
{
	const char hdr[] = "From: a@example.com\n\n";
	char *in = malloc(sizeof hdr + len), *want, err[ERRLEN];
	size_t wantlen;
	struct rec r;

	assert_non_null(in);
	memcpy(in, hdr, sizeof hdr - 1);
	for (size_t i = 0; i < len; i++) {
		char c = (char)('a' + i % 26);

		if (i % line == line - 1)
			c = '\n';
		else if (use_crlf && i % line == line - 2)
			c = '\r';
		in[sizeof hdr - 1 + i] = c;
	}
	if (!run(in, sizeof hdr - 1 + len, true, &r, NULL, err))
		fail_msg("%s", err);
	want = crlf_of(in + sizeof hdr - 1, len, &wantlen);
	assert_int_equal(r.bodylen, wantlen);
	assert_memory_equal(r.body, want, wantlen);
	assert_true(r.maxchunk <= MESSAGE_CHUNK);
	if (wantlen > MESSAGE_CHUNK)
		assert_true(r.nchunks >= (wantlen + MESSAGE_CHUNK - 1) /
		    MESSAGE_CHUNK);
	assert_false(r.order_bad);
	rec_free(&r);
	free(want);
	free(in);
}

/* a body over 65535 bytes arrives in bounded chunks that add up */
static void
test_big_body_chunks(void **state)
{
	(void)state;
	check_big(BIG_BODY, false, 72);
	check_big(BIG_BODY, true, 72);
	/* one long line, no line end at all */
	check_big(BIG_BODY, false, BIG_BODY + 1);
	/* LF at every byte: the CRLF pair straddles chunk ends */
	check_big(BIG_BODY, false, 1);
	check_big(BIG_BODY, true, 2);
	/* around the chunk size */
	for (size_t len = MESSAGE_CHUNK - 3; len <= MESSAGE_CHUNK + 3; len++) {
		check_big(len, false, 3);
		check_big(len, true, 5);
		check_big(len, false, len);
	}
}

static void
test_body_nul_bytes(void **state)
{
	static const char in[] = "From: a@example.com\n\nab\0cd\n\0\0e\r\n\0";
	static const char want[] = "ab\0cd\r\n\0\0e\r\n\0";
	struct rec r;
	char err[ERRLEN];

	(void)state;
	if (!run(in, sizeof in - 1, true, &r, NULL, err))
		fail_msg("%s", err);
	assert_int_equal(r.bodylen, sizeof want - 1);
	assert_memory_equal(r.body, want, sizeof want - 1);
	rec_free(&r);
}

/* eoh answering false: no body is delivered, and that is no error */
static void
test_eoh_false_skips_body(void **state)
{
	static const char in[] = "From: a@example.com\nTo: b@example.com\n\n"
	    "body that nobody wants\n";
	struct rec r;
	char err[ERRLEN];

	(void)state;
	assert_true(run(in, sizeof in - 1, false, &r, NULL, err));
	assert_int_equal(r.nhdrs, 2);
	assert_int_equal(r.neoh, 1);
	assert_int_equal(r.nchunks, 0);
	rec_free(&r);

	/* also when the body starts with a non-header line */
	assert_true(run("From: a\nbody\n", 13, false, &r, NULL, err));
	assert_int_equal(r.neoh, 1);
	assert_int_equal(r.nchunks, 0);
	rec_free(&r);
}

/* a sink with no callbacks at all is fine */
static void
test_null_callbacks(void **state)
{
	static const char in[] = "From: a@example.com\n\nbody\n";
	struct message_sink sink = { NULL, NULL, NULL, NULL };
	char err[ERRLEN];
	bool crlf;
	FILE *fp = tmpfile();

	(void)state;
	assert_non_null(fp);
	fputs(in, fp);
	rewind(fp);
	assert_true(message_read(fp, &sink, &crlf, err, sizeof err));
	fclose(fp);
}

/* *crlf follows the first line */
static void
test_crlf_flag(void **state)
{
	struct rec r;
	bool crlf;

	(void)state;
	run_ok("From: a\r\nTo: b\n\nx\n", &r, &crlf);
	assert_true(crlf);
	hdr_is(&r, 1, "To", " b");
	rec_free(&r);

	run_ok("From: a\nTo: b\r\n\r\nx\r\n", &r, &crlf);
	assert_false(crlf);
	hdr_is(&r, 1, "To", " b");
	body_is(&r, "x\r\n");
	rec_free(&r);

	run_ok("From: a\r\n", &r, &crlf);
	assert_true(crlf);
	rec_free(&r);
}

/* fill - n copies of c */
static void
fill(char *p, char c, size_t n)
{
	memset(p, c, n);
}

/* a header line over MESSAGE_MAX_HEADER_BYTES fails with a reason */
static void
test_header_too_long(void **state)
{
	size_t big = MESSAGE_MAX_HEADER_BYTES + 100, n = 0;
	char *in = malloc(2 * MESSAGE_MAX_HEADER_BYTES + 1024), err[ERRLEN] = "";
	struct rec r;

	(void)state;
	assert_non_null(in);
	memcpy(in, "X-Big: ", 7);
	n = 7;
	fill(in + n, 'a', big);
	n += big;
	memcpy(in + n, "\n\nbody\n", 7);
	n += 7;
	assert_false(run(in, n, true, &r, NULL, err));
	assert_true(strlen(err) > 0);
	assert_non_null(strstr(err, "longer than"));
	assert_int_equal(r.nchunks, 0);
	rec_free(&r);

	/* a folded field whose lines add up to more than the bound */
	n = 0;
	memcpy(in, "X-Big: ", 7);
	n = 7;
	for (int i = 0; i < 3; i++) {
		size_t part = MESSAGE_MAX_HEADER_BYTES / 2;

		fill(in + n, 'b', part);
		n += part;
		memcpy(in + n, "\n ", 2);
		n += 2;
	}
	memcpy(in + n, "x\n\n", 3);
	n += 3;
	err[0] = '\0';
	assert_false(run(in, n, true, &r, NULL, err));
	assert_non_null(strstr(err, "longer than"));
	assert_int_equal(r.nchunks, 0);
	rec_free(&r);
	free(in);
}

/* a large header under the bound is delivered whole */
static void
test_header_large_ok(void **state)
{
	size_t big = 1024 * 1024;
	char *in = malloc(big + 64), err[ERRLEN] = "";
	struct rec r;

	(void)state;
	assert_non_null(in);
	memcpy(in, "X-Big:", 6);
	fill(in + 6, 'c', big);
	memcpy(in + 6 + big, "\n\nb\n", 4);
	if (!run(in, 6 + big + 4, true, &r, NULL, err))
		fail_msg("%s", err);
	assert_int_equal(r.nhdrs, 1);
	assert_int_equal(strlen(r.value[0]), big);
	body_is(&r, "b\r\n");
	rec_free(&r);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_lf),
		cmocka_unit_test(test_simple_crlf),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_folded_edge),
		cmocka_unit_test(test_obsolete_colon),
		cmocka_unit_test(test_colon_in_value),
		cmocka_unit_test(test_non_header_starts_body),
		cmocka_unit_test(test_leading_continuation),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_headers_to_eof),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_body_lf_to_crlf),
		cmocka_unit_test(test_body_crlf_kept),
		cmocka_unit_test(test_big_body_chunks),
		cmocka_unit_test(test_body_nul_bytes),
		cmocka_unit_test(test_eoh_false_skips_body),
		cmocka_unit_test(test_null_callbacks),
		cmocka_unit_test(test_crlf_flag),
		cmocka_unit_test(test_header_too_long),
		cmocka_unit_test(test_header_large_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
