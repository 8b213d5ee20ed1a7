/*
 * test_smtp.c - unit tests of smtp_client.c against a real SMTP server
 * on loopback (a thread of this test that speaks from a script): the
 * whole dialogue with a multi-line EHLO reply, dot-stuffing and CRLF of
 * the data, HELO when EHLO is refused, 4xx (temporary) and 5xx
 * (permanent) replies, a relay that never answers (bounded by the
 * limits), a refused connection, a reply line over the bound; and the
 * host[:port] parser of ReportSMTPRelay.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "smtp_client.h"
#include "util.h"

/* What the server says; NULL: say nothing (and wait for the client). */
struct script {
	const char	*greeting;
	const char	*ehlo;
	const char	*helo;
	const char	*mail;
	const char	*rcpt;
	const char	*data;
	const char	*end;
	/* what it heard */
	char		 commands[2048];
	char		 body[8192];
	size_t		 bodylen;
	int		 lfd;
	unsigned	 port;
};

/* srv_line - one line from the client (CRLF kept); false at the end */
static bool
srv_line(FILE *in, char *line, size_t len)
{
	return fgets(line, (int)len, in) != NULL;
}

static void
srv_say(int fd, const char *text)
{
	if (text != NULL)
		(void)send(fd, text, strlen(text), MSG_NOSIGNAL);
}

/* srv_main - one session by the script */
static void *
srv_main(void *arg)
{
	struct script *s = arg;
	char line[4096];
	int fd = accept(s->lfd, NULL, NULL);
	FILE *in;

	if (fd < 0)
		return NULL;
	in = fdopen(dup(fd), "r");
	srv_say(fd, s->greeting);
	if (s->greeting == NULL) {
		sleep(2);	/* silent: longer than the client waits */
		goto out;
	}
	while (srv_line(in, line, sizeof(line))) {
		const char *r = NULL;

		{
			size_t have = strlen(s->commands);

			snprintf(s->commands + have, sizeof(s->commands) - have,
			    "%s", line);
		}
		if (strncmp(line, "EHLO", 4) == 0)
			r = s->ehlo;
		else if (strncmp(line, "HELO", 4) == 0)
			r = s->helo;
		else if (strncmp(line, "MAIL", 4) == 0)
			r = s->mail;
		else if (strncmp(line, "RCPT", 4) == 0)
			r = s->rcpt;
		else if (strncmp(line, "QUIT", 4) == 0) {
			srv_say(fd, "221 bye\r\n");
			break;
		} else if (strncmp(line, "DATA", 4) == 0) {
			srv_say(fd, s->data);
			if (strncmp(s->data, "354", 3) != 0)
				continue;
			while (srv_line(in, line, sizeof(line)) &&
			    strcmp(line, ".\r\n") != 0) {
				size_t n = strlen(line);

				if (s->bodylen + n < sizeof(s->body)) {
					memcpy(s->body + s->bodylen, line, n);
					s->bodylen += n;
				}
			}
			r = s->end;
		} else
			r = "500 what\r\n";
		srv_say(fd, r);
	}
out:
	fclose(in);
	close(fd);
	return NULL;
}

/* srv_start - listen on a free loopback port, serve one session */
static pthread_t
srv_start(struct script *s)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	pthread_t tid;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &len), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&tid, NULL, srv_main, s), 0);
	return tid;
}

static void
srv_join(struct script *s, pthread_t tid)
{
	pthread_join(tid, NULL);
	close(s->lfd);
}

static const struct smtp_limits fast = { 1000, 500, 1000, 500 };

/* run - one session of the client against the script s; its outcome */
static enum smtp_status
run(struct script *s, const char *rcpt, const char *text, char *why,
    size_t whylen)
{
	pthread_t tid = srv_start(s);
	enum smtp_status st = smtp_client_send("127.0.0.1", s->port, &fast,
	    "gw.test", "f@gw.test", rcpt, text, strlen(text), why, whylen);

	srv_join(s, tid);
	return st;
}

/* a script where everything goes well */
static void
script_ok(struct script *s)
{
	memset(s, 0, sizeof(*s));
	s->greeting = "220-relay.test ESMTP\r\n220 welcome\r\n";
	s->ehlo = "250-relay.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
	s->helo = "250 relay.test\r\n";
	s->mail = "250 2.1.0 ok\r\n";
	s->rcpt = "250 2.1.5 ok\r\n";
	s->data = "354 go ahead\r\n";
	s->end = "250 2.0.0 queued as X\r\n";
}

static const char msg[] = "Subject: t\n\n.leading dot\nplain\n..two\r\n"
    ".\nlast line without end";

/* the whole dialogue: commands, CRLF, dot-stuffing, multi-line replies */
static void
test_sent(void **state)
{
	struct script s;
	char why[256];

	(void)state;
	script_ok(&s);
	assert_int_equal(run(&s, "a+b@dest.test", msg, why, sizeof(why)),
	    SMTP_SENT);
	assert_string_equal(s.commands, "EHLO gw.test\r\n"
	    "MAIL FROM:<f@gw.test>\r\nRCPT TO:<a+b@dest.test>\r\n"
	    "DATA\r\nQUIT\r\n");
	s.body[s.bodylen] = '\0';
	assert_string_equal(s.body, "Subject: t\r\n\r\n..leading dot\r\n"
	    "plain\r\n...two\r\n..\r\nlast line without end\r\n");
}

/* EHLO refused: HELO */
static void
test_helo(void **state)
{
	struct script s;
	char why[256];

	(void)state;
	script_ok(&s);
	s.ehlo = "502 5.5.1 no EHLO here\r\n";
	assert_int_equal(run(&s, "a@dest.test", "x\n", why, sizeof(why)),
	    SMTP_SENT);
	assert_non_null(strstr(s.commands, "HELO gw.test\r\nMAIL FROM:"));
}

/* 4xx: temporary, 5xx: permanent, with the reply in why */
static void
test_replies(void **state)
{
	static const struct {
		const char	*step;	/* MAIL, RCPT or END */
		const char	*reply;
		enum smtp_status st;
		const char	*why;
	} cases[] = {
		{ "RCPT", "450-4.2.0 mailbox busy\r\n450 4.2.0 try later\r\n",
		    SMTP_TEMP, "RCPT TO: 450-4.2.0 mailbox busy" },
		{ "MAIL", "550 5.7.1 not you\r\n", SMTP_PERM,
		    "MAIL FROM: 550 5.7.1 not you" },
		{ "END", "452 4.3.1 out of space\r\n", SMTP_TEMP,
		    "end of data: 452 4.3.1 out of space" },
	};
	struct script s;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		script_ok(&s);
		if (strcmp(cases[i].step, "RCPT") == 0)
			s.rcpt = cases[i].reply;
		else if (strcmp(cases[i].step, "MAIL") == 0)
			s.mail = cases[i].reply;
		else
			s.end = cases[i].reply;
		assert_int_equal(run(&s, "a@dest.test", "x\n", why,
		    sizeof(why)), cases[i].st);
		assert_string_equal(why, cases[i].why);
		/* nothing is sent after a refusal before DATA */
		if (strcmp(cases[i].step, "END") != 0)
			assert_null(strstr(s.commands, "DATA"));
	}
}

/* a relay that never answers: temporary, within the limits */
static void
test_timeout(void **state)
{
	struct script s;
	struct timespec t0, t1;
	pthread_t tid;
	char why[256];
	long ms;

	(void)state;
	script_ok(&s);
	s.greeting = NULL;
	tid = srv_start(&s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(smtp_client_send("127.0.0.1", s.port, &fast,
	    "gw.test", "f@gw.test", "a@dest.test", "x\n", 2, why,
	    sizeof(why)), SMTP_TEMP);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	assert_true(ms >= 400 && ms < 1500);
	assert_string_equal(why, "greeting: no reply in time");
	srv_join(&s, tid);
}

/* nobody listens: temporary */
static void
test_refused(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char why[256];
	int fd;

	(void)state;
	/* a free port: bound, then closed, never listened on */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	assert_int_equal(smtp_client_send("127.0.0.1", ntohs(sa.sin_port),
	    &fast, "gw.test", "f@gw.test", "a@dest.test", "x\n", 2, why,
	    sizeof(why)), SMTP_TEMP);
	assert_non_null(strstr(why, "connect to 127.0.0.1"));
}

/* a reply line over SMTP_MAX_LINE, a reply that is not SMTP: permanent */
static void
test_bad_replies(void **state)
{
	char *big = xmalloc(SMTP_MAX_LINE + 64);
	struct script s;
	char why[256];

	(void)state;
	memset(big, 'x', SMTP_MAX_LINE + 60);
	memcpy(big, "220 ", 4);
	memcpy(big + SMTP_MAX_LINE + 60, "\r\n", 3);
	script_ok(&s);
	s.greeting = big;
	assert_int_equal(run(&s, "a@dest.test", "x\n", why, sizeof(why)),
	    SMTP_PERM);
	assert_non_null(strstr(why, "longer than"));
	free(big);

	script_ok(&s);
	s.greeting = "HTTP/1.1 400 Bad Request\r\n";
	assert_int_equal(run(&s, "a@dest.test", "x\n", why, sizeof(why)),
	    SMTP_PERM);
	assert_non_null(strstr(why, "not an SMTP reply"));

	/* an address that would break the command line is never sent */
	assert_int_equal(smtp_client_send("127.0.0.1", 1, &fast, "gw.test",
	    "f@gw.test", "a@dest.test>\r\nRSET", "x\n", 2, why, sizeof(why)),
	    SMTP_PERM);
}

/* ReportSMTPRelay host[:port] */
static void
test_parse_relay(void **state)
{
	char host[SMTP_MAX_HOST + 1], why[256];
	unsigned port;

	(void)state;
	assert_true(smtp_client_parse_relay("127.0.0.1", host, sizeof(host),
	    &port, why, sizeof(why)));
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 25);
	assert_true(smtp_client_parse_relay("mail.example.com:587", host,
	    sizeof(host), &port, why, sizeof(why)));
	assert_string_equal(host, "mail.example.com");
	assert_int_equal(port, 587);
	assert_true(smtp_client_parse_relay("[::1]:2525", host, sizeof(host),
	    &port, why, sizeof(why)));
	assert_string_equal(host, "::1");
	assert_int_equal(port, 2525);
	assert_true(smtp_client_parse_relay("2001:db8::25", host, sizeof(host),
	    &port, why, sizeof(why)));
	assert_int_equal(port, 25);
	assert_false(smtp_client_parse_relay("relay:0", host, sizeof(host),
	    &port, why, sizeof(why)));
	assert_false(smtp_client_parse_relay("relay:65536", host, sizeof(host),
	    &port, why, sizeof(why)));
	assert_false(smtp_client_parse_relay("relay:25x", host, sizeof(host),
	    &port, why, sizeof(why)));
	assert_false(smtp_client_parse_relay("[::1", host, sizeof(host),
	    &port, why, sizeof(why)));
	assert_false(smtp_client_parse_relay("bad_host!:25", host,
	    sizeof(host), &port, why, sizeof(why)));
	assert_false(smtp_client_parse_relay(":25", host, sizeof(host), &port,
	    why, sizeof(why)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sent),
		cmocka_unit_test(test_helo),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_parse_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
