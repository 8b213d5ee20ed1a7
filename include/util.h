/*
 * util.h - small helpers shared by every module: checked allocation, bounded
 * string handling, base64 decoding and a growable byte buffer.
 *
 * Allocation failure is not recoverable in the helpers named x*(): they log
 * and abort, because every caller would otherwise need an error path for a
 * condition that, on a mail gateway, means the machine is already lost.
 * Modules that must survive large hostile input bound it before allocating.
 */
#ifndef AM_UTIL_H
#define AM_UTIL_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* util_trim - strip leading and trailing white space in place; returns s+skip */
char *util_trim(char *s);
/*
 * util_utf8_seq - length of the well-formed UTF-8 sequence of a non-ASCII
 * character at p (avail bytes there), or 0: RFC 3629, no overlong forms,
 * no surrogates, nothing beyond U+10FFFF. ASCII bytes give 0 too.
 */
size_t util_utf8_seq(const unsigned char *p, size_t avail);
/*
 * util_b64_decode - base64 (RFC 4648) into out, cap bytes at most: folding
 * white space (SP, HTAB, CR, LF) anywhere is skipped, up to two '=' may end
 * the data (padding is not required), and the bits of a last partial
 * quantum are dropped. The number of bytes, or -1 on a character outside
 * the alphabet, data after '=', more than two '=', a lone last character
 * or no room.
 */
long util_b64_decode(const char *in, size_t len, unsigned char *out,
    size_t cap);
/* util_strlower - lower-case ASCII letters in place; returns s */
char *util_strlower(char *s);
/* util_strcaseeq - ASCII case-insensitive equality */
bool util_strcaseeq(const char *a, const char *b);
/* util_copy - src (NULL: "") into dst of size bytes, cut to fit, NUL-ended */
void util_copy(char *dst, size_t size, const char *src);
/* util_parse_bool - yes/no/true/false/1/0 (any case); false if not one of them */
bool util_parse_bool(const char *s, bool *out);
/* util_parse_uint - decimal unsigned in [min,max]; false on junk or range */
bool util_parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out);
/* util_wildmatch - case-insensitive glob: '*' matches any run, '?' one char */
bool util_wildmatch(const char *pattern, const char *text);

/*
 * util_fopen_regular - fopen(path, "r") for a regular file only: a FIFO or
 * device named by mistake must not hang start-up. NULL with errno set
 * (EINVAL when the file is not a regular file).
 */
#include <stdio.h>
FILE *util_fopen_regular(const char *path);
/* util_open_error - the reason util_fopen_regular failed, for messages */
const char *util_open_error(int err);

/*
 * util_parse_hostport - "IPv4", "IPv4:PORT", "IPv6", "[IPv6]" or
 * "[IPv6]:PORT" into *ss (numeric addresses only: no name lookup). Without
 * a port the port is default_port; a default_port of 0 means the port may
 * be absent (and is then 0). False on anything else.
 */
struct sockaddr_storage;
bool util_parse_hostport(const char *spec, unsigned default_port,
    struct sockaddr_storage *ss, unsigned *lenp);
/*
 * util_parse_listen - an address to listen on: "IPv4:PORT", "[IPv6]:PORT"
 * or "*:PORT" (every IPv4 address); the port is required
 */
bool util_parse_listen(const char *spec, struct sockaddr_storage *ss,
    unsigned *lenp);

/* A growable byte buffer, always NUL-terminated for convenience. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * buf_put_crlf - append len bytes of s with every bare LF made CRLF: header
 * values arrive folded with "\n" and are hashed and sent folded with "\r\n"
 */
void buf_put_crlf(struct buf *b, const char *s, size_t len);
/* buf_steal - hand the data to the caller (NUL-terminated) and reset b */
char *buf_steal(struct buf *b);

#endif
