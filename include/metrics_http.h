/*
 * metrics_http.h - the /metrics endpoint: an HTTP server (libmicrohttpd)
 * that answers GET /metrics with the text its owner renders.
 *
 * The server runs in its own thread and never touches mail: a scrape
 * renders a snapshot of lock-free counters. It is bounded (connections,
 * memory per connection, a timeout for idle or slow clients), so a flood
 * of scrapes or a malformed request costs the milter nothing but the CPU
 * of the answers.
 */
#ifndef AM_METRICS_HTTP_H
#define AM_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define METRICS_HTTP_MAX_CONNECTIONS	512	/* open at once; more wait */
#define METRICS_HTTP_BACKLOG		1024	/* listen() backlog */
#define METRICS_HTTP_TIMEOUT_S		10	/* idle or slow client */
#define METRICS_HTTP_CONN_MEMORY	(32 * 1024)	/* per connection */
#define METRICS_HTTP_PATH		"/metrics"
#define METRICS_HTTP_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/*
 * The text of one scrape, allocated with malloc (the server frees it);
 * *len is its length. NULL makes the answer 500.
 */
typedef char *(*metrics_http_render_fn)(void *arg, size_t *len);

struct metrics_http;

/*
 * metrics_http_start - listen on spec ("HOST:PORT", "[IPv6]:PORT" or
 * "*:PORT"; numeric addresses only) and serve render(arg). NULL with a
 * reason in err when the address is bad or cannot be bound.
 */
struct metrics_http *metrics_http_start(const char *spec,
    metrics_http_render_fn render, void *arg, char *err, size_t errlen);
/* metrics_http_stop - close the listener, finish, free (NULL is fine) */
void metrics_http_stop(struct metrics_http *h);
/* metrics_http_spec - what it listens on, as given */
const char *metrics_http_spec(const struct metrics_http *h);

#endif
