/*
 * NAME
 *	daemon - start, reload and stop the milter daemon
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	int daemon_main(path, foreground)
 * DESCRIPTION
 *	Start-up, in this order: load the configuration and the keys (as
 *	root, so key files may be readable by root only); open the milter
 *	socket (so a port below 1024 or a root-owned directory works); go to
 *	the background unless told not to; write the pid file; switch to
 *	UserID. Then libmilter serves connections in its own thread.
 *
 *	Signals. The main thread takes them all: SIGHUP and SIGUSR1 reload,
 *	SIGTERM and SIGINT stop. It keeps the four unblocked with a handler
 *	while every other thread blocks them, and Linux delivers a
 *	process-directed signal to the main thread when that thread accepts
 *	it; when the main thread has a signal pending already, a new one
 *	waits until the main thread takes it, since no other thread accepts
 *	it (libmilter's signal thread, which would, is parked for good: see
 *	milter.c). The handler only writes a byte to a pipe; the main thread
 *	reloads or stops outside signal context.
 *
 *	The services (the DNS resolver and its cache, the verifier's handle,
 *	the metrics and their endpoint) live in one runtime, made once here
 *	before the fork (it starts no thread then) and configured after the
 *	switch to UserID, when the metrics endpoint starts.
 *
 *	A reload builds a new configuration, hands its settings to the
 *	runtime (the DNS cache stays unless Nameservers changed; the
 *	counters go on) and installs it; connections already open keep
 *	theirs. A configuration that fails to load is refused with
 *	file:line: reason and the old one stays in force.
 *
 *	The stop. libmilter's own shutdown is not used: with Debian's
 *	libmilter it cuts messages off mid-body, stalls those waiting for
 *	the MTA until the MTA's timeout, and can leave its threads deadlocked
 *	with the socket in place (milter.c says why). Instead, on SIGTERM:
 *	milter_stop() shuts the listening socket down, so that the MTA's new
 *	connections are refused at once, and from then on answers 421 at the
 *	end of any message that is neither in flight nor possibly begun by
 *	the MTA before the stop, on which the MTA closes the SMTP session;
 *	the unix socket file is removed; milter_drain() waits until the
 *	messages in flight have their verdict and the connections have
 *	closed or stayed idle (milter.c has the details), at most
 *	ShutdownTimeout (what is still in flight then gets the MTA's
 *	milter_default_action). The daemon removes the pid file and exits. If
 *	connections are still open it leaves with _exit(): libmilter's
 *	workers may still serve them (a message left over, a connection
 *	ending) and must not race with the process-wide clean-up of exit().
 *	Before that the DMARC report rows queued are written to the store
 *	(runtime_drain_reports(), at most REPORT_WRITER_STOP_SECS), so the
 *	rows of the messages answered before the stop are not lost.
 *	libmilter's teardown is never called. A reload asked for during the
 *	stop is ignored.
 * DIAGNOSTICS
 *	Start-up failures are printed (stderr and syslog) and exit 1. If
 *	libmilter's main loop fails by itself the daemon exits 1.
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "keytable.h"
#include "log.h"
#include "milter.h"
#include "runtime.h"
#include "util.h"

#define DAEMON_WAKE_RELOAD	'h'
#define DAEMON_WAKE_STOP	't'	/* SIGTERM, SIGINT */
#define DAEMON_WAKE_FAILED	'f'	/* libmilter's main loop ended */
/* a unix socket needs read and write, never execute: UMask takes from this */
#define DAEMON_SOCKET_MODE	0666

static int daemon_pipe[2] = { -1, -1 };
static struct runtime *daemon_rt;	/* the services, for the process */
static char *daemon_pidpath;	/* the pid file written at start-up */
static char *daemon_sockpath;	/* the unix socket opened at start-up */
static struct stat daemon_sockstat;	/* ... and the file it is */

/* daemon_wake - tell the main thread something (async-signal-safe) */
static void
daemon_wake(char what)
{
	int saved = errno;
	ssize_t n;

	do
		n = write(daemon_pipe[1], &what, 1);
	while (n < 0 && errno == EINTR);
	errno = saved;
}

static void
daemon_on_reload(int sig)
{
	(void)sig;
	daemon_wake(DAEMON_WAKE_RELOAD);
}

/* daemon_on_stop - SIGTERM or SIGINT: have the main thread stop */
static void
daemon_on_stop(int sig)
{
	(void)sig;
	daemon_wake(DAEMON_WAKE_STOP);
}

/* daemon_log_open - logging as the configuration says */
static void
daemon_log_open(const struct config *cfg, bool foreground)
{
	log_open("authmilter", cfg->syslog, cfg->syslog_facility, foreground);
}

/* daemon_lookup_user - uid and gid for "user" or "user:group" */
static bool
daemon_lookup_user(const char *spec, uid_t *uid, gid_t *gid, char **name)
{
	char *user = xstrdup(spec), *group = strchr(user, ':');
	struct passwd *pw;
	struct group *gr;

	if (group)
		*group++ = '\0';
	pw = getpwnam(user);
	if (pw == NULL) {
		log_err("UserID: no such user \"%s\"", user);
		free(user);
		return false;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group) {
		gr = getgrnam(group);
		if (gr == NULL) {
			log_err("UserID: no such group \"%s\"", group);
			free(user);
			return false;
		}
		*gid = gr->gr_gid;
	}
	*name = user;
	return true;
}

/* daemon_socket_ours - is the socket file still the one we created? */
static bool
daemon_socket_ours(void)
{
	struct stat st;

	return stat(daemon_sockpath, &st) == 0 &&
	    st.st_dev == daemon_sockstat.st_dev &&
	    st.st_ino == daemon_sockstat.st_ino;
}

/* daemon_drop_privileges - become UserID; chown what must stay ours */
static bool
daemon_drop_privileges(const struct config *cfg)
{
	const char *sock = config_socket_path(cfg->socket);
	char *name;
	uid_t uid;
	gid_t gid;

	if (cfg->userid == NULL)
		return true;
	if (!daemon_lookup_user(cfg->userid, &uid, &gid, &name))
		return false;
	if (getuid() == uid) {
		free(name);
		return true;
	}
	if (geteuid() != 0) {
		log_err("UserID %s: only root can switch user", cfg->userid);
		free(name);
		return false;
	}
	/* the socket and the pid file must be removable after the switch */
	if (sock && chown(sock, uid, gid) < 0)
		log_warn("chown %s: %s", sock, strerror(errno));
	if (cfg->pidfile && chown(cfg->pidfile, uid, gid) < 0)
		log_warn("chown %s: %s", cfg->pidfile, strerror(errno));
	if (initgroups(name, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		log_err("cannot switch to user %s: %s", cfg->userid,
		    strerror(errno));
		free(name);
		return false;
	}
	free(name);
	return true;
}

/* daemon_pidfile - write our pid */
static bool
daemon_pidfile(const char *path)
{
	char line[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("PidFile %s: %s", path, strerror(errno));
		return false;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)n) != n) {
		log_err("PidFile %s: write failed", path);
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* daemon_background - detach from the terminal */
static bool
daemon_background(void)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		return false;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	pid = fork();
	if (pid < 0)
		return false;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return false;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return true;
}

/* daemon_milter_thread - libmilter's main loop; it ends only on failure */
static void *
daemon_milter_thread(void *arg)
{
	(void)arg;
	milter_run();
	daemon_wake(DAEMON_WAKE_FAILED);
	return NULL;
}

/* daemon_reload - load the file again; keep the old config on failure */
static void
daemon_reload(const char *path, bool foreground)
{
	struct config *cfg, *old;
	char err[CONFIG_ERRLEN];

	cfg = config_load(path, err, sizeof(err));
	if (cfg == NULL) {
		log_err("reload refused, old configuration stays in force: %s",
		    err);
		runtime_count_reload(daemon_rt, false);
		return;
	}
	old = config_current();
	if (old && strcmp(old->socket, cfg->socket) != 0)
		log_warn("Socket changed to %s: it takes effect at the next "
		    "restart", cfg->socket);
	config_unref(old);
	daemon_log_open(cfg, foreground);
	/* a service that cannot follow is logged; mail goes on regardless */
	(void)runtime_configure(daemon_rt, cfg, err, sizeof(err));
	log_info("configuration reloaded from %s (%zu signing keys)", path,
	    cfg->keytable->count);
	runtime_count_reload(daemon_rt, true);
	config_install(cfg);
}

/* daemon_signals - route signals as the header comment explains */
static bool
daemon_start_thread(pthread_t *tid)
{
	sigset_t all;
	struct sigaction sa;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&all);
	sigaddset(&all, SIGHUP);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	/*
	 * A handler runs with the four blocked: with two pending, the kernel
	 * would otherwise stack both handlers and run the later one first
	 * (SIGTERM's before SIGHUP's). Now they run in signal number order.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_mask = all;
	sa.sa_handler = daemon_on_reload;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = daemon_on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* every thread but this one blocks all four */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	rc = pthread_create(tid, NULL, daemon_milter_thread, NULL);
	/* this thread takes all four */
	pthread_sigmask(SIG_UNBLOCK, &all, NULL);
	if (rc != 0) {
		log_err("pthread_create: %s", strerror(rc));
		return false;
	}
	return true;
}

/* daemon_loop - reload when asked to, until a stop or a failure */
static char
daemon_loop(const char *path, bool foreground)
{
	char c;
	ssize_t n;

	for (;;) {
		n = read(daemon_pipe[0], &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return DAEMON_WAKE_FAILED;
		if (c != DAEMON_WAKE_RELOAD)
			return c;
		daemon_reload(path, foreground);
	}
}

/* daemon_remove_socket - remove the unix socket if it is still ours */
static void
daemon_remove_socket(void)
{
	/* a new instance may have bound the path since */
	if (daemon_sockpath && daemon_socket_ours() &&
	    unlink(daemon_sockpath) < 0 && errno != ENOENT)
		log_warn("Socket %s: %s", daemon_sockpath, strerror(errno));
}

/* daemon_seconds_since - seconds elapsed since t0 (CLOCK_MONOTONIC) */
static double
daemon_seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * daemon_stop - refuse new connections and messages, remove the socket,
 * wait up to ShutdownTimeout for the messages in flight. True when nothing
 * is left running: no message in flight, no connection open.
 */
static bool
daemon_stop(void)
{
	struct config *cfg;
	struct timespec t0;
	unsigned secs, left, conns;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cfg = config_current();
	secs = cfg ? cfg->shutdown_timeout : CONFIG_DEFAULT_SHUTDOWN_SECS;
	config_unref(cfg);
	milter_stop();
	daemon_remove_socket();
	log_info("stopping: no new connections; %u connection(s) open, %u "
	    "message(s) in flight; waiting up to %u s", milter_connections(),
	    milter_in_flight(), secs);
	left = milter_drain(secs);
	conns = milter_connections();
	if (left > 0) {
		log_warn("stopping with %u message(s) still in flight after "
		    "%u s: the MTA applies its default action to them", left,
		    secs);
		return false;
	}
	log_info("every message in flight answered after %.3f s; %u idle "
	    "connection(s) left", daemon_seconds_since(&t0), conns);
	return conns == 0;
}

/* daemon_main - the whole life of the daemon */
int
daemon_main(const char *path, bool foreground)
{
	struct config *cfg;
	char err[CONFIG_ERRLEN];
	const char *sock;
	pthread_t tid;
	bool quiet = false;
	int status = 0;

	log_open("authmilter", false, LOG_MAIL, true);
	cfg = config_load(path, err, sizeof(err));
	if (cfg == NULL) {
		log_err("%s", err);
		return 1;
	}
	daemon_log_open(cfg, true);
	daemon_rt = runtime_new(cfg, err, sizeof(err));
	if (daemon_rt == NULL) {
		log_err("%s", err);
		config_unref(cfg);
		return 1;
	}
	if (!milter_open(cfg->socket, cfg->umask, daemon_rt) ||
	    (!foreground && !daemon_background()) ||
	    (cfg->pidfile && !daemon_pidfile(cfg->pidfile)) ||
	    !daemon_drop_privileges(cfg) ||
	    pipe2(daemon_pipe, O_CLOEXEC) < 0 ||
	    fcntl(daemon_pipe[1], F_SETFL, O_NONBLOCK) < 0) {
		config_unref(cfg);
		return 1;
	}
	daemon_pidpath = cfg->pidfile ? xstrdup(cfg->pidfile) : NULL;
	sock = config_socket_path(cfg->socket);
	/* bind() made it 0777 & ~UMask: the execute bits mean nothing */
	if (sock && chmod(sock, DAEMON_SOCKET_MODE & ~cfg->umask) < 0)
		log_warn("chmod %s: %s", sock, strerror(errno));
	daemon_sockpath = sock ? xstrdup(sock) : NULL;
	if (daemon_sockpath && stat(daemon_sockpath, &daemon_sockstat) < 0)
		memset(&daemon_sockstat, 0, sizeof(daemon_sockstat));
	daemon_log_open(cfg, foreground);
	log_info("authmilter %s listening on %s (%zu signing keys)",
	    PACKAGE_VERSION, cfg->socket, cfg->keytable->count);
	(void)runtime_configure(daemon_rt, cfg, err, sizeof(err));
	config_install(cfg);
	if (!daemon_start_thread(&tid))
		return 1;
	if (daemon_loop(path, foreground) == DAEMON_WAKE_STOP) {
		quiet = daemon_stop();
	} else {
		log_err("libmilter stopped serving: exiting");
		status = 1;
	}
	if (daemon_pidpath && unlink(daemon_pidpath) < 0)
		log_warn("PidFile %s: %s", daemon_pidpath, strerror(errno));
	daemon_remove_socket();
	if (!quiet) {
		/*
		 * threads still serve: no exit() clean-up under their feet;
		 * but the report rows of the messages answered are written
		 * first (bounded by REPORT_WRITER_STOP_SECS)
		 */
		runtime_drain_reports(daemon_rt);
		log_info("stopped");
		_exit(status);
	}
	free(daemon_pidpath);
	free(daemon_sockpath);
	config_install(NULL);
	runtime_free(daemon_rt);
	log_info("stopped");
	return status;
}
