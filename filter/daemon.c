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
 *	Signals. libmilter owns SIGTERM and SIGINT: its signal thread stops
 *	the listener, and we then wait up to ShutdownTimeout for the messages
 *	in flight before exiting. libmilter would also stop on SIGHUP, but a
 *	mail administrator expects SIGHUP to reload. The main thread therefore
 *	keeps SIGHUP and SIGUSR1 unblocked with a handler while every other
 *	thread blocks them: Linux delivers a process-directed signal to the
 *	main thread first when that thread accepts it, so libmilter's sigwait
 *	never sees SIGHUP. The handler only writes a byte to a pipe; the main
 *	thread reloads outside signal context.
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
 * DIAGNOSTICS
 *	Start-up failures are printed (stderr and syslog) and exit 1.
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
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "keytable.h"
#include "log.h"
#include "milter.h"
#include "runtime.h"
#include "util.h"

#define DAEMON_WAKE_RELOAD	'h'
#define DAEMON_WAKE_STOPPED	'q'

static int daemon_pipe[2] = { -1, -1 };
static int daemon_status;
static bool daemon_idle;	/* no session left when the milter stopped */
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

/* daemon_milter_thread - libmilter's main loop, then the drain */
static void *
daemon_milter_thread(void *arg)
{
	struct config *cfg;
	unsigned secs;

	(void)arg;
	daemon_status = milter_run();
	cfg = config_current();
	secs = cfg ? cfg->shutdown_timeout : CONFIG_DEFAULT_SHUTDOWN_SECS;
	config_unref(cfg);
	log_info("stopping: waiting up to %u s for messages in flight", secs);
	daemon_idle = milter_drain(secs);
	if (!daemon_idle)
		log_warn("stopping with messages still in flight");
	daemon_wake(DAEMON_WAKE_STOPPED);
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
	sigset_t set, all;
	struct sigaction sa;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_on_reload;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	/* every thread but this one blocks all four */
	sigemptyset(&all);
	sigaddset(&all, SIGHUP);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	rc = pthread_create(tid, NULL, daemon_milter_thread, NULL);
	/* this thread takes SIGHUP/SIGUSR1; SIGTERM/SIGINT go to libmilter */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (rc != 0) {
		log_err("pthread_create: %s", strerror(rc));
		return false;
	}
	return true;
}

/* daemon_loop - wait for reloads until the milter has stopped */
static void
daemon_loop(const char *path, bool foreground)
{
	char c;
	ssize_t n;

	for (;;) {
		n = read(daemon_pipe[0], &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == DAEMON_WAKE_STOPPED)
			return;
		daemon_reload(path, foreground);
	}
}

/* daemon_main - the whole life of the daemon */
int
daemon_main(const char *path, bool foreground)
{
	struct config *cfg;
	char err[CONFIG_ERRLEN];
	const char *sock;
	pthread_t tid;

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
	    pipe2(daemon_pipe, O_CLOEXEC) < 0) {
		config_unref(cfg);
		return 1;
	}
	daemon_pidpath = cfg->pidfile ? xstrdup(cfg->pidfile) : NULL;
	sock = config_socket_path(cfg->socket);
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
	daemon_loop(path, foreground);
	pthread_join(tid, NULL);
	if (daemon_pidpath && unlink(daemon_pidpath) < 0)
		log_warn("PidFile %s: %s", daemon_pidpath, strerror(errno));
	free(daemon_pidpath);
	/*
	 * libmilter does not always remove its socket on the way out. Remove
	 * it only if it is still ours: a new instance may have bound the path.
	 */
	if (daemon_sockpath && daemon_socket_ours() &&
	    unlink(daemon_sockpath) < 0 && errno != ENOENT)
		log_warn("Socket %s: %s", daemon_sockpath, strerror(errno));
	free(daemon_sockpath);
	config_install(NULL);
	/* a session still in flight may use the services: then leave them */
	if (daemon_idle)
		runtime_free(daemon_rt);
	log_info("stopped");
	return daemon_status;
}
