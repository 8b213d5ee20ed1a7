/*
 * test_util.c - unit tests for util.c: wildcard matching, boolean and
 * number parsing, trimming, case helpers, bounded copies, struct buf and
 * the base64 decoder.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "textfile.h"
#include "util.h"

/* wildmatch: literal text, any case */
/* util_utf8_seq: RFC 3629 sequences, and what is not one */
static void
test_utf8_seq(void **state)
{
#define SEQ(s)	util_utf8_seq((const unsigned char *)(s), sizeof(s) - 1)
	(void)state;
	assert_int_equal(SEQ("a"), 0);			/* ASCII */
	assert_int_equal(SEQ("\xc3\xa9"), 2);		/* U+00E9 */
	assert_int_equal(SEQ("\xe2\x82\xac"), 3);	/* U+20AC */
	assert_int_equal(SEQ("\xf0\x9f\x98\x80"), 4);	/* U+1F600 */
	assert_int_equal(SEQ("\xf4\x8f\xbf\xbf"), 4);	/* U+10FFFF */
	assert_int_equal(SEQ("\xc0\xaf"), 0);		/* overlong "/" */
	assert_int_equal(SEQ("\xe0\x80\xaf"), 0);	/* overlong */
	assert_int_equal(SEQ("\xf0\x80\x80\xaf"), 0);	/* overlong */
	assert_int_equal(SEQ("\xed\xa0\x80"), 0);	/* surrogate */
	assert_int_equal(SEQ("\xf4\x90\x80\x80"), 0);	/* past U+10FFFF */
	assert_int_equal(SEQ("\x80"), 0);		/* lone continuation */
	assert_int_equal(SEQ("\xe2\x82"), 0);		/* cut short */
	assert_int_equal(SEQ("\xe2\x28\xa1"), 0);	/* bad continuation */
	assert_int_equal(util_utf8_seq((const unsigned char *)"\xc3\xa9", 1),
	    0);					/* avail counts */
#undef SEQ
}

static void
test_wild_literal(void **state)
{
	(void)state;
	assert_true(util_wildmatch("user@example.com", "user@example.com"));
	assert_true(util_wildmatch("USER@Example.COM", "user@example.com"));
	assert_false(util_wildmatch("user@example.com", "user@example.co"));
	assert_false(util_wildmatch("user@example.co", "user@example.com"));
	assert_true(util_wildmatch("", ""));
	assert_false(util_wildmatch("", "a"));
	assert_false(util_wildmatch("a", ""));
}

/* wildmatch: '*' matches any run, including an empty one */
static void
test_wild_star(void **state)
{
	(void)state;
	assert_true(util_wildmatch("*", ""));
	assert_true(util_wildmatch("*", "anything at all"));
	assert_true(util_wildmatch("*@example.com", "joe@example.com"));
	assert_true(util_wildmatch("*@example.com", "@example.com"));
	assert_false(util_wildmatch("*@example.com", "joe@example.com.evil"));
	assert_false(util_wildmatch("*@example.com", "joe@sub.example.org"));
	assert_true(util_wildmatch("*@*.example.com", "a@b.example.com"));
	assert_false(util_wildmatch("*@*.example.com", "a@example.com"));
	assert_true(util_wildmatch("a*b*c", "aXXbYYc"));
	assert_true(util_wildmatch("a*b*c", "abc"));
	assert_false(util_wildmatch("a*b*c", "acb"));
	assert_true(util_wildmatch("**x**", "x"));
	assert_true(util_wildmatch("joe@*", "joe@example.com"));
	assert_false(util_wildmatch("joe@*", "joey@example.com"));
}

/* wildmatch: backtracking after a partial match */
static void
test_wild_backtrack(void **state)
{
	(void)state;
	assert_true(util_wildmatch("*ab", "aab"));
	assert_true(util_wildmatch("*abc", "ababc"));
	assert_true(util_wildmatch("*.com", "a.b.c.com"));
	assert_false(util_wildmatch("*.com", "a.b.c.comx"));
	assert_true(util_wildmatch("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaab"));
	assert_false(util_wildmatch("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaa"));
}

/* wildmatch: '?' is exactly one character */
static void
test_wild_question(void **state)
{
	(void)state;
	assert_true(util_wildmatch("?", "x"));
	assert_false(util_wildmatch("?", ""));
	assert_false(util_wildmatch("?", "xy"));
	assert_true(util_wildmatch("us?r@example.com", "user@example.com"));
	assert_true(util_wildmatch("*?", "a"));
	assert_false(util_wildmatch("*??", "a"));
}

/* wildmatch: a long hostile text does not blow up (no recursion) */
static void
test_wild_long(void **state)
{
	size_t n = 100000;
	char *text = malloc(n + 1);

	(void)state;
	assert_non_null(text);
	memset(text, 'a', n);
	text[n] = '\0';
	assert_true(util_wildmatch("*a", text));
	assert_false(util_wildmatch("*b", text));
	assert_false(util_wildmatch("*a*a*a*a*a*b", text));
	free(text);
}

/* parse_bool: every accepted spelling, in any case */
static void
test_bool_good(void **state)
{
	static const char *const yes[] = { "yes", "YES", "Yes", "true",
	    "TRUE", "1", "on", "On", NULL };
	static const char *const no[] = { "no", "NO", "No", "false",
	    "False", "0", "off", "OFF", NULL };
	bool v;

	(void)state;
	for (int i = 0; yes[i]; i++) {
		v = false;
		assert_true(util_parse_bool(yes[i], &v));
		assert_true(v);
	}
	for (int i = 0; no[i]; i++) {
		v = true;
		assert_true(util_parse_bool(no[i], &v));
		assert_false(v);
	}
}

/* parse_bool: anything else is refused and leaves *out alone */
static void
test_bool_bad(void **state)
{
	static const char *const bad[] = { "", "y", "n", "yess", " yes",
	    "yes ", "2", "-1", "01", "truee", "nope", "t", "f", NULL };

	(void)state;
	for (int i = 0; bad[i]; i++) {
		bool v = true;

		assert_false(util_parse_bool(bad[i], &v));
		assert_true(v);
	}
}

/* parse_uint: numbers inside the range */
static void
test_uint_good(void **state)
{
	unsigned long v = 0;

	(void)state;
	assert_true(util_parse_uint("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(util_parse_uint("10", 0, 10, &v));
	assert_int_equal(v, 10);
	assert_true(util_parse_uint("1024", 1024, 8192, &v));
	assert_int_equal(v, 1024);
	assert_true(util_parse_uint("007", 0, 10, &v));
	assert_int_equal(v, 7);
	assert_true(util_parse_uint("4294967295", 0, ULONG_MAX, &v));
	assert_int_equal(v, 4294967295UL);
}

/* parse_uint: junk, signs, spaces, out of range, overflow */
static void
test_uint_bad(void **state)
{
	static const char *const junk[] = { "", " 1", "1 ", "-1", "+1",
	    "1x", "x1", "0x10", "1.5", "1e3", "one",
	    "99999999999999999999999999999", NULL };
	unsigned long v = 42;

	(void)state;
	for (int i = 0; junk[i]; i++) {
		assert_false(util_parse_uint(junk[i], 0, ULONG_MAX, &v));
		assert_int_equal(v, 42);
	}
	assert_false(util_parse_uint("11", 0, 10, &v));
	assert_false(util_parse_uint("4", 5, 10, &v));
	assert_int_equal(v, 42);
}

/* trim: leading and trailing blanks, CR and LF; inner ones stay */
static void
test_trim(void **state)
{
	char a[] = "  \t hello world \r\n";
	char b[] = "nothing";
	char c[] = " \t\r\n ";
	char d[] = "";
	char e[] = "x ";

	(void)state;
	assert_string_equal(util_trim(a), "hello world");
	assert_string_equal(util_trim(b), "nothing");
	assert_string_equal(util_trim(c), "");
	assert_string_equal(util_trim(d), "");
	assert_string_equal(util_trim(e), "x");
	/* trimming works in place: the result points into the buffer */
	assert_ptr_equal(util_trim(b), b);
	assert_true(util_trim(a) >= a && util_trim(a) < a + sizeof a);
}

/* strlower, strcaseeq: ASCII only, in place */
static void
test_case(void **state)
{
	char s[] = "Example.COM-\xc3\x84";

	(void)state;
	assert_ptr_equal(util_strlower(s), s);
	assert_string_equal(s, "example.com-\xc3\x84");
	assert_true(util_strcaseeq("DKIM-Signature", "dkim-signature"));
	assert_false(util_strcaseeq("From", "From "));
	assert_false(util_strcaseeq("From", "Fro"));
	assert_true(util_strcaseeq("", ""));
}

/* xstrdup, xstrndup: copies, bounded by n */
static void
test_xstr(void **state)
{
	char *a = xstrdup("abc");
	char *b = xstrndup("abcdef", 3);
	char *c = xstrndup("ab", 10);
	char *d = xstrndup("abc", 0);

	(void)state;
	assert_string_equal(a, "abc");
	assert_string_equal(b, "abc");
	assert_string_equal(c, "ab");
	assert_string_equal(d, "");
	free(a);
	free(b);
	free(c);
	free(d);
}

/* buf: append, puts, putc, printf; always NUL-terminated */
static void
test_buf_build(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	assert_int_equal(b.len, 0);
	buf_puts(&b, "From");
	buf_putc(&b, ':');
	buf_append(&b, " joe@example.com\0junk", 16);
	buf_printf(&b, " (%d, %s)", 42, "x");
	assert_string_equal(b.data, "From: joe@example.com (42, x)");
	assert_int_equal(b.len, strlen("From: joe@example.com (42, x)"));
	assert_true(b.cap > b.len);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

/* buf: binary data with NUL bytes keeps its length */
/* bare LF becomes CRLF; CRLF and lone CR stay as they are */
static void
test_buf_put_crlf(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	buf_put_crlf(&b, " a\n\tb\r\n\tc\rd\n", 13);
	assert_string_equal(b.data, " a\r\n\tb\r\n\tc\rd\r\n");
	buf_reset(&b);
	buf_put_crlf(&b, "\n", 1);
	assert_string_equal(b.data, "\r\n");
	/* appended after what is there; runs of LF; no LF at all */
	buf_put_crlf(&b, "x\n\n\r\n\ny", 7);
	assert_string_equal(b.data, "\r\nx\r\n\r\n\r\n\r\ny");
	assert_int_equal(b.len, 12);
	buf_put_crlf(&b, "", 0);
	buf_put_crlf(&b, "no line end", 11);
	assert_string_equal(b.data, "\r\nx\r\n\r\n\r\n\r\nyno line end");
	buf_free(&b);
	/* a value longer than the first allocation, folded many times */
	buf_init(&b);
	for (int i = 0; i < 100; i++)
		buf_put_crlf(&b, "abc\n\tdef", 8);
	assert_int_equal(b.len, 900);
	assert_memory_equal(b.data + 891, "abc\r\n\tdef", 9);
	buf_free(&b);
}

/* util_b64_decode on s; the decoded bytes in out */
static long
b64(const char *s, unsigned char *out, size_t cap)
{
	return util_b64_decode(s, strlen(s), out, cap);
}

/* base64: the RFC 4648 section 10 vectors, padded and not */
static void
test_b64_vectors(void **state)
{
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v",
	    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	static const char *const bare[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg",
	    "Zm9vYmE", "Zm9vYmFy" };
	unsigned char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
		memset(out, 0, sizeof(out));
		assert_int_equal(b64(enc[i], out, sizeof(out)), (long)i);
		assert_memory_equal(out, "foobar", i);
		assert_int_equal(b64(bare[i], out, sizeof(out)), (long)i);
		assert_memory_equal(out, "foobar", i);
	}
	/* every value of the alphabet, in order */
	/* 48 bytes: no room in 16 */
	assert_int_equal(b64("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
	    "vwxyz0123456789+/", out, sizeof(out)), -1);
	{
		unsigned char all[48];
		static const unsigned char want[] = { 0x00, 0x10, 0x83, 0x10,
		    0x51, 0x87, 0x20, 0x92, 0x8b };

		assert_int_equal(b64("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
		    "mnopqrstuvwxyz0123456789+/", all, sizeof(all)), 48);
		assert_memory_equal(all, want, sizeof(want));
		assert_int_equal(all[45], 0xf3);
		assert_int_equal(all[46], 0xdf);
		assert_int_equal(all[47], 0xbf);
	}
}

/* base64: folding white space anywhere, padding rules, bad characters */
static void
test_b64_edges(void **state)
{
	unsigned char out[16];

	(void)state;
	/* white space: between quanta, inside one, inside the padding */
	assert_int_equal(b64("Zm9v\r\n\tYmFy", out, sizeof(out)), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(b64(" Z m 9 v Y m F y ", out, sizeof(out)), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(b64("Zm9vYg= \r\n =", out, sizeof(out)), 4);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(b64(" \t\r\n", out, sizeof(out)), 0);
	/* padding: at most two, nothing after it, no lone character */
	assert_int_equal(b64("Zg===", out, sizeof(out)), -1);
	assert_int_equal(b64("Zg==Zg==", out, sizeof(out)), -1);
	assert_int_equal(b64("Zm9v=YmFy", out, sizeof(out)), -1);
	assert_int_equal(b64("Zm9vY", out, sizeof(out)), -1);
	assert_int_equal(b64("Z", out, sizeof(out)), -1);
	assert_int_equal(b64("=", out, sizeof(out)), 0);
	/* bad characters, in the fast path and the slow one */
	assert_int_equal(b64("Zm9!YmFy", out, sizeof(out)), -1);
	assert_int_equal(b64("Zm9vYm-y", out, sizeof(out)), -1);
	assert_int_equal(b64("Zm9vYm_y", out, sizeof(out)), -1);
	assert_int_equal(b64("Zm9v\xc3\xa9", out, sizeof(out)), -1);
	assert_int_equal(b64("Zm9v\x80", out, sizeof(out)), -1);
	assert_int_equal(b64("Zm9v\vYmFy", out, sizeof(out)), -1);
	assert_int_equal(util_b64_decode("Zm\0v", 4, out, sizeof(out)), -1);
	/* room: exactly enough, one byte short, none */
	assert_int_equal(b64("Zm9vYmFy", out, 6), 6);
	assert_int_equal(b64("Zm9vYmFy", out, 5), -1);
	assert_int_equal(b64("Zm9vYg==", out, 3), -1);
	assert_int_equal(b64("", out, 0), 0);
	assert_int_equal(b64("Zg==", out, 0), -1);
}

/* b64_ref - the decoder util_b64_decode replaced, one range test a byte */
static long
b64_ref(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
	unsigned long acc = 0;
	size_t n = 0, bits = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		int c = in[i], v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return -1;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	return (long)n;
}

/*
 * base64: the same answers as the plain decoder on random text made
 * mostly of the alphabet, with white space, '=' and stray bytes mixed in,
 * and on every single byte value after each quantum position
 */
static void
test_b64_differential(void **state)
{
	static const char pool[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789+/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789+/ \t\r\n==!-_.\x80\xff";
	unsigned char in[64], a[64], b[64];
	unsigned long seed = 12345;

	(void)state;
	for (int round = 0; round < 100000; round++) {
		size_t len, cap;
		long got, want;

		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		len = (seed >> 33) % sizeof(in);
		cap = (seed >> 45) % 2 ? sizeof(a) : (seed >> 20) % 40;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 6364136223846793005UL +
			    1442695040888963407UL;
			/* mostly the alphabet, so that long inputs decode */
			in[i] = (unsigned char)pool[(seed >> 33) %
			    (round % 3 == 0 ? sizeof(pool) - 1 : 128)];
		}
		want = b64_ref(in, len, a, cap);
		got = util_b64_decode((const char *)in, len, b, cap);
		assert_int_equal(got, want);
		if (want > 0)
			assert_memory_equal(a, b, (size_t)want);
	}
	for (unsigned c = 0; c < 256; c++)
		for (size_t at = 0; at < 8; at++) {
			memcpy(in, "QUJDREVG", 8);
			in[at] = (unsigned char)c;
			assert_int_equal(util_b64_decode((const char *)in, 8,
			    b, sizeof(b)), b64_ref(in, 8, a, sizeof(a)));
		}
}

static void
test_buf_binary(void **state)
{
	static const char data[] = { 'a', '\0', 'b', '\0' };
	struct buf b;

	(void)state;
	buf_init(&b);
	buf_append(&b, data, sizeof data);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, data, sizeof data);
	assert_int_equal(b.data[4], '\0');
	buf_append(&b, "", 0);
	assert_int_equal(b.len, 4);
	buf_free(&b);
}

/* buf: growth across many appends, and a long printf */
static void
test_buf_grow(void **state)
{
	struct buf b;
	char big[5000];

	(void)state;
	buf_init(&b);
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, (char)('a' + i % 26));
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.data[9999], 'a' + 9999 % 26);
	assert_int_equal(b.data[10000], '\0');
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_reset(&b);
	buf_printf(&b, "<%s>", big);
	assert_int_equal(b.len, sizeof big + 1);
	assert_int_equal(b.data[0], '<');
	assert_int_equal(b.data[b.len - 1], '>');
	buf_free(&b);
}

/*
 * buf: printf formats in place when the result fits the room left and
 * again after growing when it does not; every length around the room's
 * edge, after every prefix length, gives what snprintf gives
 */
static void
test_buf_printf_edges(void **state)
{
	char want[1200], part[600];

	(void)state;
	for (size_t pre = 0; pre < 300; pre += 7) {
		for (size_t n = 0; n < 600; n += 1 + n / 16) {
			struct buf b;

			buf_init(&b);
			memset(part, 'p', pre);
			part[pre] = '\0';
			buf_puts(&b, part);
			memset(part, 'x', n);
			part[n] = '\0';
			buf_printf(&b, "%s%d", part, (int)n);
			memset(want, 'p', pre);
			snprintf(want + pre, sizeof want - pre, "%s%d", part,
			    (int)n);
			assert_int_equal(b.len, strlen(want));
			assert_string_equal(b.data, want);
			buf_printf(&b, "%s", "");
			assert_int_equal(b.len, strlen(want));
			buf_free(&b);
		}
	}
}

/* buf: reset keeps the memory; steal hands it over and empties b */
static void
test_buf_reset_steal(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "hello");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_puts(&b, "again");
	s = buf_steal(&b);
	assert_string_equal(s, "again");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	/* stealing an empty buffer still gives a string */
	s = buf_steal(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	buf_reset(&b);		/* on an empty buffer: harmless */
	buf_free(&b);
}

/* tf_write - a temporary file with text; its path (static) */
static const char *
tf_write(const char *text)
{
	static char path[64];
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_util.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* tf_count - a textfile_each callback: count lines, refuse "bad" */
static bool
tf_count(void *arg, char *line, unsigned lineno, char *why, size_t wlen)
{
	unsigned *n = arg;

	(*n)++;
	if (strncmp(line, "bad", 3) == 0) {
		snprintf(why, wlen, "bad line %u", lineno);
		return false;
	}
	return true;
}

static void
test_textfile_each(void **state)
{
	char err[256], expect[128];
	const char *path;
	unsigned n = 0;

	(void)state;
	path = tf_write("a\nb\n\nlast without newline");
	assert_true(textfile_each(path, 64, 10, tf_count, &n, err,
	    sizeof(err)));
	assert_int_equal(n, 4);
	unlink(path);

	n = 0;
	path = tf_write("ok\nbad one\nnever\n");
	assert_false(textfile_each(path, 64, 10, tf_count, &n, err,
	    sizeof(err)));
	snprintf(expect, sizeof(expect), "%s:2: bad line 2", path);
	assert_string_equal(err, expect);
	assert_int_equal(n, 2);
	unlink(path);

	/* a line of exactly maxline bytes is fine, one more byte is not */
	path = tf_write("12345678\n123456789\n");
	n = 0;
	assert_false(textfile_each(path, 8, 10, tf_count, &n, err,
	    sizeof(err)));
	snprintf(expect, sizeof(expect), "%s:2: line too long (at most 8 "
	    "bytes)", path);
	assert_string_equal(err, expect);
	assert_int_equal(n, 1);
	unlink(path);

	path = tf_write("1\n2\n3\n");
	assert_false(textfile_each(path, 8, 2, tf_count, &n, err,
	    sizeof(err)));
	assert_non_null(strstr(err, ":3: too many lines (at most 2)"));
	unlink(path);

	assert_false(textfile_each("/nonexistent/x", 8, 2, tf_count, &n, err,
	    sizeof(err)));
	assert_string_equal(err, "/nonexistent/x: cannot open: No such file "
	    "or directory");
	/* a directory is not a file of lines */
	assert_false(textfile_each("/tmp", 8, 2, tf_count, &n, err,
	    sizeof(err)));
}

static void
test_textfile_split(void **state)
{
	char line[] = "  one\ttwo   three # four\r\n", *f[2];
	char l2[] = "# comment only", l3[] = "a b";

	(void)state;
	assert_int_equal(textfile_split(line, f, 2), 3);
	assert_string_equal(f[0], "one");
	assert_string_equal(f[1], "two");
	assert_int_equal(textfile_split(l2, f, 2), 0);
	assert_int_equal(textfile_split(l3, f, 2), 2);
	assert_string_equal(f[1], "b");
}

static void
test_parse_hostport(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
	unsigned len;

	(void)state;
	assert_true(util_parse_hostport("192.0.2.1", 53, &ss, &len));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 53);
	assert_true(util_parse_hostport("192.0.2.1:5353", 53, &ss, &len));
	assert_int_equal(ntohs(sin->sin_port), 5353);
	assert_true(util_parse_hostport("[2001:db8::1]:99", 0, &ss, &len));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 99);
	assert_true(util_parse_hostport("2001:db8::1", 0, &ss, &len));
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_false(util_parse_hostport("192.0.2.1:0", 0, &ss, &len));
	assert_false(util_parse_hostport("192.0.2.1:65536", 0, &ss, &len));
	assert_false(util_parse_hostport("host.example:53", 0, &ss, &len));
	assert_false(util_parse_hostport("[2001:db8::1", 0, &ss, &len));
	assert_false(util_parse_hostport("[2001:db8::1]x", 0, &ss, &len));
	assert_false(util_parse_hostport("", 0, &ss, &len));
	assert_false(util_parse_hostport(":53", 0, &ss, &len));

	assert_true(util_parse_listen("127.0.0.1:9464", &ss, &len));
	assert_true(util_parse_listen("*:9464", &ss, &len));
	assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_true(util_parse_listen("[::1]:9464", &ss, &len));
	assert_false(util_parse_listen("127.0.0.1", &ss, &len));
	assert_false(util_parse_listen("*:", &ss, &len));
	assert_false(util_parse_listen("*:123456", &ss, &len));
	assert_false(util_parse_listen("localhost:9464", &ss, &len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_seq),
		cmocka_unit_test(test_wild_literal),
		cmocka_unit_test(test_wild_star),
		cmocka_unit_test(test_wild_backtrack),
		cmocka_unit_test(test_wild_question),
		cmocka_unit_test(test_wild_long),
		cmocka_unit_test(test_bool_good),
		cmocka_unit_test(test_bool_bad),
		cmocka_unit_test(test_uint_good),
		cmocka_unit_test(test_uint_bad),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_case),
		cmocka_unit_test(test_xstr),
		cmocka_unit_test(test_buf_build),
		cmocka_unit_test(test_buf_binary),
		cmocka_unit_test(test_buf_grow),
		cmocka_unit_test(test_buf_printf_edges),
		cmocka_unit_test(test_buf_reset_steal),
		cmocka_unit_test(test_buf_put_crlf),
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_edges),
		cmocka_unit_test(test_b64_differential),
		cmocka_unit_test(test_textfile_each),
		cmocka_unit_test(test_textfile_split),
		cmocka_unit_test(test_parse_hostport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
