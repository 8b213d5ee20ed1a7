/*
 * NAME
 *	cli_stats - the stats command: the running daemon's figures
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int cli_stats(argc, argv)
 * DESCRIPTION
 *	authmilter stats [-c FILE] [--listen HOST:PORT] [--raw]
 *
 *	Reads the daemon's metrics endpoint (MetricsListen of the
 *	configuration, or --listen) over HTTP, and prints the figures for
 *	someone without Prometheus: each family with its help text, then its
 *	non-zero samples; a histogram as its count, mean and the bucket that
 *	holds the median and the 99th percentile. --raw prints the exposition
 *	as served. The numbers are those a scrape sees.
 *
 *	The client is bounded: CLI_STATS_TIMEOUT_S for the whole exchange,
 *	CLI_STATS_MAX_BYTES of answer. An endpoint that listens on every
 *	address (*:PORT, 0.0.0.0, ::) is asked on the loopback address.
 * DIAGNOSTICS
 *	Exit 0 with the figures; 1 when the configuration has no
 *	MetricsListen, the daemon does not answer, or the answer is not 200;
 *	2 on a usage error.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "util.h"

#define CLI_STATS_TIMEOUT_S	5		/* connect, ask, read */
#define CLI_STATS_MAX_BYTES	(4 * 1024 * 1024)	/* of answer */
#define CLI_STATS_CHUNK		16384
#define CLI_STATS_MAX_BUCKETS	64		/* of one histogram */
#define CLI_STATS_NAME		256		/* bytes of a metric name */
#define CLI_STATS_PATH		"/metrics"

/* cli_stats_deadline_ms - ms left until deadline (monotonic s) */
static int
cli_stats_left_ms(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* cli_stats_wait - poll fd for events until the deadline */
static bool
cli_stats_wait(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&pfd, 1, cli_stats_left_ms(deadline));
	while (rc < 0 && errno == EINTR);
	return rc > 0;
}

/* cli_stats_connect - a connected socket to the endpoint, or -1 */
static int
cli_stats_connect(struct sockaddr_storage *ss, unsigned len,
    const struct timespec *deadline)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	/* a wildcard listener is reached on loopback */
	if (ss->ss_family == AF_INET && sin->sin_addr.s_addr == INADDR_ANY)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
		sin6->sin6_addr = in6addr_loopback;
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)ss, len) < 0) {
		if (errno != EINPROGRESS ||
		    !cli_stats_wait(fd, POLLOUT, deadline) ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 ||
		    err != 0) {
			if (err != 0)
				errno = err;
			else if (errno == EINPROGRESS)
				errno = ETIMEDOUT;
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* cli_stats_fetch - GET /metrics; the body in out, or false (said) */
static bool
cli_stats_fetch(const char *spec, struct buf *out)
{
	struct sockaddr_storage ss;
	struct timespec deadline;
	char req[512], chunk[CLI_STATS_CHUNK], *body;
	unsigned len;
	ssize_t n;
	size_t sent = 0, reqlen;
	int fd, status = 0;

	if (!util_parse_listen(spec, &ss, &len)) {
		fprintf(stderr, "authmilter stats: \"%s\" is not HOST:PORT\n",
		    spec);
		return false;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += CLI_STATS_TIMEOUT_S;
	fd = cli_stats_connect(&ss, len, &deadline);
	if (fd < 0) {
		fprintf(stderr, "authmilter stats: cannot connect to %s: %s "
		    "(is the daemon running with MetricsListen %s?)\n", spec,
		    strerror(errno), spec);
		return false;
	}
	reqlen = (size_t)snprintf(req, sizeof(req), "GET " CLI_STATS_PATH
	    " HTTP/1.0\r\nHost: %s\r\nAccept: text/plain\r\n"
	    "User-Agent: authmilter-stats\r\n\r\n", spec);
	while (sent < reqlen && cli_stats_wait(fd, POLLOUT, &deadline)) {
		n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			break;
		if (n > 0)
			sent += (size_t)n;
	}
	buf_reset(out);
	while (sent == reqlen && out->len <= CLI_STATS_MAX_BYTES &&
	    cli_stats_wait(fd, POLLIN, &deadline)) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	if (out->len > CLI_STATS_MAX_BYTES) {
		fprintf(stderr, "authmilter stats: %s: answer over %d bytes\n",
		    spec, CLI_STATS_MAX_BYTES);
		return false;
	}
	if (out->len == 0 || sscanf(out->data, "HTTP/%*d.%*d %d", &status) != 1 ||
	    (body = strstr(out->data, "\r\n\r\n")) == NULL) {
		fprintf(stderr, "authmilter stats: %s: no HTTP answer within "
		    "%d s\n", spec, CLI_STATS_TIMEOUT_S);
		return false;
	}
	if (status != 200) {
		fprintf(stderr, "authmilter stats: %s: HTTP status %d\n", spec,
		    status);
		return false;
	}
	body += 4;
	len = (unsigned)(out->len - (size_t)(body - out->data));
	memmove(out->data, body, len);
	out->len = len;
	out->data[len] = '\0';
	return true;
}

/* A histogram being read: its bucket lines, in order. */
struct cli_stats_hist {
	char	 name[CLI_STATS_NAME];
	double	 le[CLI_STATS_MAX_BUCKETS];
	double	 cum[CLI_STATS_MAX_BUCKETS];
	size_t	 n;
	double	 sum;
	double	 count;
};

/* cli_stats_quantile - the upper bound of the bucket holding quantile q */
static void
cli_stats_quantile(const struct cli_stats_hist *h, double q, char *out,
    size_t size)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->cum[i] >= q * h->count) {
			if (h->le[i] > 1e300)
				snprintf(out, size, "> %g s", i ? h->le[i - 1] :
				    0.0);
			else
				snprintf(out, size, "<= %g s", h->le[i]);
			return;
		}
	snprintf(out, size, "?");
}

/* cli_stats_hist_print - one histogram as count, mean, p50, p99 */
static void
cli_stats_hist_print(const struct cli_stats_hist *h)
{
	char p50[32], p99[32];

	if (h->count == 0) {
		printf("  (no observation yet)\n");
		return;
	}
	cli_stats_quantile(h, 0.5, p50, sizeof(p50));
	cli_stats_quantile(h, 0.99, p99, sizeof(p99));
	printf("  count %.0f, mean %.6f s, median %s, 99th percentile %s\n",
	    h->count, h->sum / h->count, p50, p99);
}

/* cli_stats_labels - {a="b",c="d"} as a=b c=d */
static void
cli_stats_labels(const char *l, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < size; i++) {
		if (l[i] == '"' || l[i] == '{' || l[i] == '}')
			continue;
		out[o++] = l[i] == ',' ? ' ' : l[i];
	}
	out[o] = '\0';
}

/* cli_stats_sample - one "name{labels} value" line, as read */
static void
cli_stats_sample(char *line, struct cli_stats_hist *h, bool *shown)
{
	char *sp = strrchr(line, ' '), *brace, labels[512], name[CLI_STATS_NAME];
	double v;
	size_t nlen;

	if (sp == NULL)
		return;
	*sp = '\0';
	v = strtod(sp + 1, NULL);
	brace = strchr(line, '{');
	nlen = brace ? (size_t)(brace - line) : strlen(line);
	if (nlen >= sizeof(name))
		return;
	memcpy(name, line, nlen);
	name[nlen] = '\0';
	if (h->name[0] && strncmp(name, h->name, strlen(h->name)) == 0) {
		const char *suffix = name + strlen(h->name);
		char *le = brace ? strstr(brace, "le=\"") : NULL;

		if (strcmp(suffix, "_bucket") == 0 && le != NULL &&
		    h->n < CLI_STATS_MAX_BUCKETS) {
			h->le[h->n] = strncmp(le + 4, "+Inf", 4) == 0 ? 1e308 :
			    strtod(le + 4, NULL);
			h->cum[h->n++] = v;
		} else if (strcmp(suffix, "_sum") == 0)
			h->sum = v;
		else if (strcmp(suffix, "_count") == 0)
			h->count = v;
		return;
	}
	if (v == 0)
		return;
	cli_stats_labels(brace ? brace : "", brace ? strlen(brace) : 0,
	    labels, sizeof(labels));
	printf("  %-44s %.15g\n", labels[0] ? labels : "", v);
	*shown = true;
}

/* cli_stats_print - the exposition, readable */
static void
cli_stats_print(char *text)
{
	struct cli_stats_hist h;
	bool shown = true, in_hist = false;
	char *line, *save = NULL;

	memset(&h, 0, sizeof(h));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			char *name = line + 7, *help = strchr(name, ' ');

			if (in_hist)
				cli_stats_hist_print(&h);
			else if (!shown)
				printf("  (all zero)\n");
			in_hist = false;
			shown = false;
			memset(&h, 0, sizeof(h));
			if (help != NULL)
				*help++ = '\0';
			printf("%s\n    %s\n", name, help ? help : "");
			snprintf(h.name, sizeof(h.name), "%s", name);
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			in_hist = strstr(line, " histogram") != NULL;
			if (!in_hist)
				h.name[0] = '\0';
		} else if (line[0] != '#')
			cli_stats_sample(line, &h, &shown);
	}
	if (in_hist)
		cli_stats_hist_print(&h);
	else if (!shown)
		printf("  (all zero)\n");
}

static const struct cli_option cli_stats_options[] = {
	{ "config", 'c', true, "FILE", "The configuration whose MetricsListen "
	    "to ask. Default: " CONFIG_DEFAULT_FILE "." },
	{ "listen", 'l', true, "HOST:PORT", "Ask this endpoint instead (a "
	    "numeric address; a wildcard listener is asked on loopback)." },
	{ "raw", 'r', true, NULL, "Print the Prometheus text exposition as "
	    "served." },
	{ NULL, 0, false, NULL, NULL }
};

/* cli_stats - the stats command */
int
cli_stats(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_FILE, *listen = NULL;
	char err[CONFIG_ERRLEN];
	struct config *cfg = NULL;
	struct buf body;
	bool raw = false, ok;
	struct cli_parser p;
	int c;

	cli_parser_init(&p, &cli_cmd_stats);
	while ((c = cli_parser_next(&p, argc, argv)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'l': listen = optarg; break;
		case 'r': raw = true; break;
		default:
			return cli_usage(&cli_cmd_stats);
		}
	}
	if (optind != argc)
		return cli_usage(&cli_cmd_stats);
	if (listen == NULL) {
		cfg = config_load(path, err, sizeof(err));
		if (cfg == NULL) {
			fprintf(stderr, "%s\n", err);
			return CLI_EXIT_ERROR;
		}
		if (cfg->metrics_listen == NULL) {
			fprintf(stderr, "authmilter stats: %s has no "
			    "MetricsListen: the daemon serves no figures (see "
			    "authmilter.conf(5))\n", path);
			config_unref(cfg);
			return CLI_EXIT_ERROR;
		}
		listen = cfg->metrics_listen;
	}
	buf_init(&body);
	ok = cli_stats_fetch(listen, &body);
	if (ok && raw)
		fwrite(body.data, 1, body.len, stdout);
	else if (ok)
		cli_stats_print(body.data);
	buf_free(&body);
	config_unref(cfg);
	return ok ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

const struct cli_command cli_cmd_stats = {
	.name = "stats",
	.run = cli_stats,
	.synopsis = "[-c FILE] [--listen HOST:PORT] [--raw]",
	.summary = "print the running daemon's counters",
	.description = "Read the running daemon's metrics endpoint "
	    "(MetricsListen) and print its figures for someone without "
	    "Prometheus: each metric with its help text and its non-zero "
	    "values; each histogram as its count, mean, and the buckets of "
	    "the median and the 99th percentile.",
	.options = cli_stats_options,
	.exit_status = "0 the figures were printed; 1 the configuration has no "
	    "MetricsListen, nothing answered within 5 seconds, or the answer "
	    "was not 200; 2 on a usage error.",
};
