/*
 * NAME
 *	dnsq - a command-line client of the DNS service, for tests
 * SYNOPSIS
 *	dnsq [--server IP[:PORT]]... [--timeout-ms N] [--tries N]
 *	    [--threads N] [--repeat N] [--sleep-ms N] [--deadline-ms N]
 *	    [--prefetch] [--time] [--stats] [--debug] NAME TYPE [NAME TYPE]...
 * DESCRIPTION
 *	Starts one DNS service (dns.c) and looks up every NAME TYPE pair in
 *	order. TYPE is A, AAAA, MX, PTR, TXT, SPF or a number.
 *
 *	--threads N runs N threads that start together and each look up the
 *	whole list; --repeat N does all that N times, --sleep-ms N apart, on
 *	the same service (so later rounds can hit its cache). --prefetch
 *	calls dns_prefetch() for every pair before the first lookup.
 *	--deadline-ms N gives each lookup its own deadline instead of the
 *	service's timeout.
 *
 *	One line per answer:
 *
 *	    NAME TYPE STATUS ttl=N wire=N [ms=N] [truncated] [RECORD]...
 *
 *	NAME as given, STATUS as dns_status_name(), wire the bytes of the
 *	raw reply kept (0: none), ms the time the lookup took (--time).
 *	Records: A/AAAA as addresses, MX as PREF:EXCHANGE, PTR as the name,
 *	TXT/SPF in double quotes with '"', '\\' and bytes outside printable
 *	ASCII written as \DDD (decimal, as in zone files).
 *
 *	--stats ends the output with "stats queries=N hits=N joined=N".
 * DIAGNOSTICS
 *	Exit 0 when the lookups ran (whatever they answered), 1 when the
 *	service did not start, 2 on a usage error.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "log.h"
#include "util.h"

#define DNSQ_MAX_THREADS	64
#define DNSQ_MAX_REPEAT		1000
#define DNSQ_MAX_SLEEP_MS	600000
#define DNSQ_MAX_TIMEOUT_MS	600000
#define DNSQ_MAX_TRIES		10
#define DNSQ_MAX_TYPE		65535
#define DNSQ_EXIT_USAGE		2
#define DNSQ_ASCII_FIRST	0x20
#define DNSQ_ASCII_LAST		0x7e
#define DNSQ_MS_PER_S		1000
#define DNSQ_NS_PER_MS		1000000L

struct dnsq_pair {
	const char	*name;
	const char	*typename;
	unsigned	 type;
};

struct dnsq {
	struct dns_service *dns;
	struct dnsq_pair *pairs;
	size_t		 npairs;
	unsigned	 deadline_ms;	/* 0: the service's timeout */
	bool		 show_time;
	pthread_barrier_t start;
	pthread_mutex_t	 out;		/* one line at a time on stdout */
};

static const struct {
	const char	*name;
	unsigned	 type;
} dnsq_types[] = {
	{ "A", DNS_T_A }, { "AAAA", DNS_T_AAAA }, { "MX", DNS_T_MX },
	{ "PTR", DNS_T_PTR }, { "TXT", DNS_T_TXT }, { "SPF", DNS_T_SPF },
};

/* dnsq_usage - print the synopsis and exit 2 */
static void
dnsq_usage(void)
{
	fprintf(stderr, "usage: dnsq [--server IP[:PORT]]... "
	    "[--timeout-ms N] [--tries N] [--threads N]\n"
	    "\t[--repeat N] [--sleep-ms N] [--deadline-ms N] [--prefetch] "
	    "[--time]\n\t[--stats] [--debug] NAME TYPE [NAME TYPE]...\n");
	exit(DNSQ_EXIT_USAGE);
}

/* dnsq_number - a decimal option value in [min,max], or exit 2 */
static unsigned
dnsq_number(const char *opt, const char *s, unsigned long min,
    unsigned long max)
{
	unsigned long v;

	if (!util_parse_uint(s, min, max, &v)) {
		fprintf(stderr, "dnsq: %s: bad value '%s' (%lu..%lu)\n", opt,
		    s, min, max);
		exit(DNSQ_EXIT_USAGE);
	}
	return (unsigned)v;
}

/* dnsq_type - a type name or number, or exit 2 */
static unsigned
dnsq_type(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(dnsq_types) / sizeof(dnsq_types[0]); i++)
		if (util_strcaseeq(s, dnsq_types[i].name))
			return dnsq_types[i].type;
	return dnsq_number("TYPE", s, 1, DNSQ_MAX_TYPE);
}

/* dnsq_put_text - a TXT record, quoted and escaped */
static void
dnsq_put_text(struct buf *b, const char *text, size_t len)
{
	unsigned char c;
	size_t i;

	buf_putc(b, '"');
	for (i = 0; i < len; i++) {
		c = (unsigned char)text[i];
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < DNSQ_ASCII_FIRST || c > DNSQ_ASCII_LAST)
			buf_printf(b, "\\%03u", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

/* dnsq_put_record - one record as a token of the output line */
static void
dnsq_put_record(struct buf *b, const struct dns_record *r)
{
	char addr[INET6_ADDRSTRLEN];

	buf_putc(b, ' ');
	switch (r->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		inet_ntop(r->type == DNS_T_A ? AF_INET : AF_INET6, r->addr,
		    addr, sizeof(addr));
		buf_puts(b, addr);
		break;
	case DNS_T_MX:
		buf_printf(b, "%u:%s", r->pref, r->text);
		break;
	case DNS_T_PTR:
		buf_puts(b, r->text);
		break;
	default:
		dnsq_put_text(b, r->text, r->len);
		break;
	}
}

/* dnsq_ms_since - milliseconds since start */
static long
dnsq_ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec) * DNSQ_MS_PER_S +
	    (now.tv_nsec - start->tv_nsec) / DNSQ_NS_PER_MS;
}

/* dnsq_one - look one pair up and print its line */
static void
dnsq_one(struct dnsq *q, const struct dnsq_pair *p)
{
	struct timespec start, dl;
	struct dns_answer *a;
	struct buf line;
	size_t i;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (q->deadline_ms > 0)
		dns_deadline(&dl, q->deadline_ms);
	a = dns_lookup(q->dns, p->name, p->type,
	    q->deadline_ms > 0 ? &dl : NULL);
	ms = dnsq_ms_since(&start);
	buf_init(&line);
	buf_printf(&line, "%s %s %s ttl=%lu wire=%zu", p->name, p->typename,
	    dns_status_name(a->status), (unsigned long)a->ttl, a->wirelen);
	if (q->show_time)
		buf_printf(&line, " ms=%ld", ms);
	if (a->truncated)
		buf_puts(&line, " truncated");
	for (i = 0; i < a->nrecords; i++)
		dnsq_put_record(&line, &a->records[i]);
	dns_answer_free(a);
	pthread_mutex_lock(&q->out);
	printf("%s\n", line.data);
	fflush(stdout);
	pthread_mutex_unlock(&q->out);
	buf_free(&line);
}

/* dnsq_worker - one thread: wait for the others, then the whole list */
static void *
dnsq_worker(void *arg)
{
	struct dnsq *q = arg;
	size_t i;

	pthread_barrier_wait(&q->start);
	for (i = 0; i < q->npairs; i++)
		dnsq_one(q, &q->pairs[i]);
	return NULL;
}

/* dnsq_round - the whole list in nthreads threads started together */
static void
dnsq_round(struct dnsq *q, unsigned nthreads)
{
	pthread_t tids[DNSQ_MAX_THREADS];
	unsigned i, started;
	int rc;

	pthread_barrier_init(&q->start, NULL, nthreads);
	for (started = 0; started < nthreads; started++) {
		rc = pthread_create(&tids[started], NULL, dnsq_worker, q);
		if (rc != 0) {
			fprintf(stderr, "dnsq: pthread_create: %s\n",
			    strerror(rc));
			exit(1);
		}
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&q->start);
}

/* dnsq_sleep_ms - sleep ms milliseconds */
static void
dnsq_sleep_ms(unsigned ms)
{
	struct timespec ts;

	ts.tv_sec = ms / DNSQ_MS_PER_S;
	ts.tv_nsec = (long)(ms % DNSQ_MS_PER_S) * DNSQ_NS_PER_MS;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server",	 required_argument, NULL, 's' },
		{ "timeout-ms",	 required_argument, NULL, 'T' },
		{ "tries",	 required_argument, NULL, 'r' },
		{ "threads",	 required_argument, NULL, 'j' },
		{ "repeat",	 required_argument, NULL, 'n' },
		{ "sleep-ms",	 required_argument, NULL, 'w' },
		{ "deadline-ms", required_argument, NULL, 'd' },
		{ "prefetch",	 no_argument,	    NULL, 'p' },
		{ "time",	 no_argument,	    NULL, 't' },
		{ "stats",	 no_argument,	    NULL, 'S' },
		{ "debug",	 no_argument,	    NULL, 'D' },
		{ NULL,		 0,		    NULL, 0 },
	};
	struct dns_config cfg;
	struct dns_stats st;
	struct dnsq q;
	char err[256];
	unsigned threads = 1, repeat = 1, sleep_ms = 0, round;
	bool prefetch = false, stats = false;
	size_t i;
	int c;

	memset(&cfg, 0, sizeof(cfg));
	memset(&q, 0, sizeof(q));
	log_open("dnsq", false, 0, true);
	log_set_level(LOG_WARNING);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (cfg.nservers == DNS_MAX_SERVERS) {
				fprintf(stderr, "dnsq: at most %d servers\n",
				    DNS_MAX_SERVERS);
				return DNSQ_EXIT_USAGE;
			}
			cfg.servers[cfg.nservers++] = optarg;
			break;
		case 'T':
			cfg.timeout_ms = dnsq_number("--timeout-ms", optarg,
			    1, DNSQ_MAX_TIMEOUT_MS);
			break;
		case 'r':
			cfg.tries = dnsq_number("--tries", optarg, 1,
			    DNSQ_MAX_TRIES);
			break;
		case 'j':
			threads = dnsq_number("--threads", optarg, 1,
			    DNSQ_MAX_THREADS);
			break;
		case 'n':
			repeat = dnsq_number("--repeat", optarg, 1,
			    DNSQ_MAX_REPEAT);
			break;
		case 'w':
			sleep_ms = dnsq_number("--sleep-ms", optarg, 0,
			    DNSQ_MAX_SLEEP_MS);
			break;
		case 'd':
			q.deadline_ms = dnsq_number("--deadline-ms", optarg,
			    1, DNSQ_MAX_TIMEOUT_MS);
			break;
		case 'p':
			prefetch = true;
			break;
		case 't':
			q.show_time = true;
			break;
		case 'S':
			stats = true;
			break;
		case 'D':
			log_set_level(LOG_DEBUG);
			break;
		default:
			dnsq_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || argc % 2 != 0)
		dnsq_usage();
	q.npairs = (size_t)argc / 2;
	q.pairs = xcalloc(q.npairs, sizeof(*q.pairs));
	for (i = 0; i < q.npairs; i++) {
		q.pairs[i].name = argv[2 * i];
		q.pairs[i].typename = argv[2 * i + 1];
		q.pairs[i].type = dnsq_type(argv[2 * i + 1]);
	}

	q.dns = dns_new(&cfg, err, sizeof(err));
	if (q.dns == NULL) {
		fprintf(stderr, "dnsq: %s\n", err);
		free(q.pairs);
		return 1;
	}
	pthread_mutex_init(&q.out, NULL);
	if (prefetch)
		for (i = 0; i < q.npairs; i++)
			dns_prefetch(q.dns, q.pairs[i].name, q.pairs[i].type);
	for (round = 0; round < repeat; round++) {
		if (round > 0 && sleep_ms > 0)
			dnsq_sleep_ms(sleep_ms);
		dnsq_round(&q, threads);
	}
	if (stats) {
		dns_get_stats(q.dns, &st);
		printf("stats queries=%lu hits=%lu joined=%lu\n", st.queries,
		    st.hits, st.joined);
	}
	dns_free(q.dns);
	pthread_mutex_destroy(&q.out);
	free(q.pairs);
	return 0;
}
