/*
 * NAME
 *	metrics_http - the Prometheus endpoint (MetricsListen)
 * SYNOPSIS
 *	#include "metrics_http.h"
 *
 *	h = metrics_http_start(spec, render, arg, err, errlen)
 *	metrics_http_stop(h)
 * DESCRIPTION
 *	libmicrohttpd serves the endpoint from one internal thread with
 *	epoll. GET (or HEAD) /metrics is answered with what render() returns;
 *	"/" with a line that points there; other paths get 404, other methods
 *	405, a request with a body 405, and a malformed request whatever
 *	libmicrohttpd answers (400) before it reaches us.
 *
 *	Bounds: METRICS_HTTP_MAX_CONNECTIONS connections at once (more wait
 *	in the listen backlog of METRICS_HTTP_BACKLOG), METRICS_HTTP_CONN_MEMORY
 *	bytes of request per connection, METRICS_HTTP_TIMEOUT_S seconds for
 *	an idle or slow client. The thread blocks every signal: signals are
 *	the daemon's main thread's business.
 * DIAGNOSTICS
 *	metrics_http_start() fails with a reason: a bad address, or one that
 *	cannot be bound (in use, not local, a privileged port).
 */
#include "buildconf.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics_http.h"
#include "util.h"


struct metrics_http {
	struct MHD_Daemon	*mhd;
	metrics_http_render_fn	 render;
	void			*arg;
	char			*spec;
};

/* metrics_http_text - queue a short plain-text answer */
static enum MHD_Result
metrics_http_text(struct MHD_Connection *conn, unsigned status,
    const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* metrics_http_answer - libmicrohttpd's access handler */
static enum MHD_Result
metrics_http_answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct metrics_http *h = cls;
	static int first;
	struct MHD_Response *r;
	enum MHD_Result rc;
	size_t len;
	char *text;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {		/* headers only so far */
		*con_cls = &first;
		return MHD_YES;
	}
	if (*upload_size != 0) {	/* a body: not ours to take */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return metrics_http_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET and HEAD\n");
	if (strcmp(url, "/") == 0)
		return metrics_http_text(conn, MHD_HTTP_OK,
		    "authmilter: the metrics are at " METRICS_HTTP_PATH "\n");
	if (strcmp(url, METRICS_HTTP_PATH) != 0)
		return metrics_http_text(conn, MHD_HTTP_NOT_FOUND,
		    "not found; the metrics are at " METRICS_HTTP_PATH "\n");
	text = h->render(h->arg, &len);
	if (text == NULL)
		return metrics_http_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot render the metrics\n");
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    METRICS_HTTP_CONTENT_TYPE);
	rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* metrics_http_log - libmicrohttpd's own complaints, at debug level */
static void metrics_http_log(void *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
metrics_http_log(void *arg, const char *fmt, va_list ap)
{
	char line[256];

	(void)arg;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("metrics: %s", line);
}

/* metrics_http_start - bind spec and start serving */
struct metrics_http *
metrics_http_start(const char *spec, metrics_http_render_fn render,
    void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct metrics_http *h;
	sigset_t all, old;
	unsigned len, flags;

	if (spec == NULL || !util_parse_listen(spec, &ss, &len)) {
		snprintf(err, errlen, "MetricsListen \"%s\": not HOST:PORT with "
		    "a numeric address ([IPv6]:PORT, *:PORT)", spec ? spec : "");
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->render = render;
	h->arg = arg;
	h->spec = xstrdup(spec);
	flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the server's thread takes no signal */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, metrics_http_answer, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_MAX_CONNECTIONS,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)METRICS_HTTP_BACKLOG,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_HTTP_CONN_MEMORY,
	    MHD_OPTION_EXTERNAL_LOGGER, metrics_http_log, NULL,
	    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h->mhd == NULL) {
		snprintf(err, errlen, "MetricsListen %s: cannot listen there "
		    "(in use, not an address of this host, or a privileged "
		    "port)", spec);
		free(h->spec);
		free(h);
		return NULL;
	}
	(void)len;
	return h;
}

/* metrics_http_stop - stop serving */
void
metrics_http_stop(struct metrics_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->mhd);
	free(h->spec);
	free(h);
}

const char *
metrics_http_spec(const struct metrics_http *h)
{
	return h->spec;
}
