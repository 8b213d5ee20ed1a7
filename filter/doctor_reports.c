/*
 * NAME
 *	doctor_reports - the site's DMARC report set-up, checked by doctor
 * SYNOPSIS
 *	#include "doctor.h"
 *
 *	void doctor_reports(const struct config *cfg,
 *	    struct dns_service *dns, struct doctor_report *rep);
 * DESCRIPTION
 *	When the configuration records or sends DMARC reports (ReportStore,
 *	FailureReports) or names their sender (ReportOrgName, ReportEmail),
 *	each part the reports need is checked, one finding each, under the
 *	check "reports":
 *
 *	store	ReportStore opens, and its schema version is the one this
 *		authmilter writes (report_store_version(): read without
 *		creating or migrating anything). For SQLite, the file and
 *		its directory (where SQLite puts its -wal and -shm files)
 *		are writable, and every directory above searchable, by the
 *		user the daemon runs as: UserID when the configuration has
 *		one (with its groups, as initgroups(3) gives them), else the
 *		user running doctor. A missing file is fine when its
 *		directory is writable: the daemon creates it.
 *	sender	ReportOrgName and ReportEmail are present (the reports say
 *		who sent them), and ReportEmail is one plain address.
 *	sendmail the program of ReportSendmail exists, is a regular file and
 *		is executable by that user (when no ReportSMTPRelay is set).
 *	relay	ReportSMTPRelay: its name has an address (through the same DNS
 *		service as the other checks) and it greets and takes our
 *		EHLO (report_send_probe(): no message is sent). It wins over
 *		ReportSendmail when both are set, as in the daemon.
 *
 *	The parts are a table (doctor_reports_parts): a new way of sending
 *	reports (a relay) is one more entry there. A site that sends no
 *	reports gets no finding; one that names a sender but records
 *	nothing gets a warning.
 * DIAGNOSTICS
 *	None: every problem is a finding.
 */
#include "buildconf.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "doctor.h"
#include "report_send.h"
#include "report_store.h"
#include "util.h"

#define DOCTOR_REPORTS_CHECK	"reports"
#define DOCTOR_REPORTS_MAX_GROUPS 256	/* groups of the user considered */
#define DOCTOR_REPORTS_MAX_PATH	4096	/* bytes of a path checked */
#define DOCTOR_REPORTS_MAX_NAME	64	/* bytes of a user's name shown */
#define DOCTOR_REPORTS_ERRLEN	256

/* The user whose rights count: UserID, or who runs doctor. */
struct doctor_user {
	char		 name[DOCTOR_REPORTS_MAX_NAME];
	uid_t		 uid;
	gid_t		 groups[DOCTOR_REPORTS_MAX_GROUPS];
	int		 ngroups;
};

/* doctor_user_configured - UserID's uid and groups; false (said) if none */
static bool
doctor_user_configured(const char *spec, struct doctor_user *u,
    struct doctor_report *rep)
{
	char *user = xstrdup(spec), *group = strchr(user, ':');
	struct passwd *pw;
	struct group *gr = NULL;
	gid_t gid;
	bool ok = false;

	if (group != NULL)
		*group++ = '\0';
	if ((pw = getpwnam(user)) == NULL)
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "UserID "
		    "%s: no such user: the daemon will not start", spec);
	else if (group != NULL && (gr = getgrnam(group)) == NULL)
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "UserID "
		    "%s: no such group: the daemon will not start", spec);
	else {
		gid = gr != NULL ? gr->gr_gid : pw->pw_gid;
		u->uid = pw->pw_uid;
		u->ngroups = DOCTOR_REPORTS_MAX_GROUPS;
		if (getgrouplist(user, gid, u->groups, &u->ngroups) < 0)
			u->ngroups = DOCTOR_REPORTS_MAX_GROUPS;
		snprintf(u->name, sizeof(u->name), "%s (UserID)", user);
		ok = true;
	}
	free(user);
	return ok;
}

/* doctor_user_self - the user running doctor */
static void
doctor_user_self(struct doctor_user *u)
{
	struct passwd *pw;
	int n;

	u->uid = geteuid();
	u->groups[0] = getegid();
	n = getgroups(DOCTOR_REPORTS_MAX_GROUPS - 1, u->groups + 1);
	u->ngroups = 1 + (n > 0 ? n : 0);
	pw = getpwuid(u->uid);
	if (pw != NULL)
		snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	else
		snprintf(u->name, sizeof(u->name), "uid %lu",
		    (unsigned long)u->uid);
}

/* doctor_user_may - may u do what the bits (of rwx, 1 to 7) ask on sb? */
static bool
doctor_user_may(const struct doctor_user *u, const struct stat *sb,
    unsigned bits)
{
	unsigned mode = (unsigned)sb->st_mode;

	if (u->uid == 0)	/* root: anything but execute without x bits */
		return (bits & 1) == 0 || (mode & 0111) != 0;
	if (sb->st_uid == u->uid)
		return ((mode >> 6) & bits) == bits;
	for (int i = 0; i < u->ngroups; i++)
		if (sb->st_gid == u->groups[i])
			return ((mode >> 3) & bits) == bits;
	return (mode & bits) == bits;
}

/*
 * doctor_dirs_searchable - every directory above path (itself excluded)
 * searchable by u; false with the first that is not in bad
 */
static bool
doctor_dirs_searchable(const struct doctor_user *u, const char *path,
    char *bad, size_t badlen)
{
	char dir[DOCTOR_REPORTS_MAX_PATH];
	struct stat sb;

	for (const char *p = strchr(path + 1, '/'); p != NULL;
	    p = strchr(p + 1, '/')) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(p - path), path);
		if (stat(dir, &sb) == 0 && !doctor_user_may(u, &sb, 1)) {
			snprintf(bad, badlen, "%s", dir);
			return false;
		}
	}
	return true;
}

/* doctor_reports_sqlite - the file and its directory, for u */
static bool
doctor_reports_sqlite(const char *path, const struct doctor_user *u,
    struct doctor_report *rep, bool *exists)
{
	char dir[DOCTOR_REPORTS_MAX_PATH], bad[DOCTOR_REPORTS_MAX_PATH] = "";
	const char *slash = strrchr(path, '/');
	struct stat sb, db;

	*exists = false;
	if (slash == NULL || strlen(path) >= sizeof(dir)) {
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "ReportStore "
		    "sqlite:%s: not an absolute path", path);
		return false;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
	    (int)(slash - path), path);
	if (stat(dir, &db) < 0) {
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "ReportStore "
		    "sqlite:%s: the directory %s: %s", path, dir,
		    strerror(errno));
		return false;
	}
	if (!S_ISDIR(db.st_mode)) {
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "ReportStore "
		    "sqlite:%s: %s is not a directory", path, dir);
		return false;
	}
	if (!doctor_dirs_searchable(u, path, bad, sizeof(bad)) ||
	    !doctor_user_may(u, &db, 3)) {
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "ReportStore "
		    "sqlite:%s: %s cannot write in %s (mode %04o, owner %lu:%lu): "
		    "the daemon cannot record report rows there; give the "
		    "directory to that user", path, u->name, bad[0] ? bad :
		    dir, (unsigned)(db.st_mode & 07777),
		    (unsigned long)db.st_uid, (unsigned long)db.st_gid);
		return false;
	}
	if (stat(path, &sb) < 0) {
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_OK, "ReportStore "
		    "sqlite:%s does not exist yet: the daemon creates it in %s, "
		    "which %s can write", path, dir, u->name);
		return true;
	}
	*exists = true;
	if (!S_ISREG(sb.st_mode) || !doctor_user_may(u, &sb, 6)) {
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "ReportStore "
		    "sqlite:%s: %s cannot read and write it (mode %04o, owner "
		    "%lu:%lu)", path, u->name, (unsigned)(sb.st_mode & 07777),
		    (unsigned long)sb.st_uid, (unsigned long)sb.st_gid);
		return false;
	}
	return true;
}

/* doctor_reports_schema - the store's schema version */
static void
doctor_reports_schema(const char *spec, const char *label,
    struct doctor_report *rep)
{
	char err[DOCTOR_REPORTS_ERRLEN];
	long v;

	if (!report_store_version(spec, &v, err, sizeof(err)))
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "ReportStore "
		    "%s does not open: %s", label, err);
	else if (v == REPORT_STORE_SCHEMA_VERSION)
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_OK, "ReportStore %s "
		    "opens; schema version %ld is current", label, v);
	else if (v == 0)
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_OK, "ReportStore %s "
		    "opens; it has no schema yet: the daemon creates it",
		    label);
	else if (v < REPORT_STORE_SCHEMA_VERSION)
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_WARNING,
		    "ReportStore %s: schema version %ld, older than this "
		    "authmilter's %d: the daemon migrates it when it starts",
		    label, v, REPORT_STORE_SCHEMA_VERSION);
	else
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "ReportStore "
		    "%s: schema version %ld, newer than this authmilter's %d: "
		    "it will not be touched, so no rows are recorded", label, v,
		    REPORT_STORE_SCHEMA_VERSION);
}

/* doctor_reports_store - ReportStore opens, current, writable */
static void
doctor_reports_store(const struct config *cfg, const struct doctor_user *u,
    struct dns_service *dns, struct doctor_report *rep)
{
	char label[REPORT_STORE_MAX_SPEC + 1];
	bool exists;

	(void)dns;
	if (cfg->report_store == NULL) {
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_WARNING, "no "
		    "ReportStore: no aggregate reports (RFC 9990) are recorded "
		    "or sent");
		return;
	}
	report_store_label(cfg->report_store, label, sizeof(label));
	if (strncmp(cfg->report_store, "sqlite:", 7) == 0 &&
	    (!doctor_reports_sqlite(cfg->report_store + 7, u, rep, &exists) ||
	    !exists))
		return;
	doctor_reports_schema(cfg->report_store, label, rep);
}

/* doctor_reports_sender - ReportOrgName and ReportEmail */
static void
doctor_reports_sender(const struct config *cfg, const struct doctor_user *u,
    struct dns_service *dns, struct doctor_report *rep)
{
	struct mailbox box;

	(void)u;
	(void)dns;
	if (cfg->report_org_name == NULL || cfg->report_org_name[0] == '\0')
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "no "
		    "ReportOrgName: the reports must name their sender "
		    "(org_name, RFC 9990)");
	else
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_OK, "ReportOrgName "
		    "%s", cfg->report_org_name);
	if (cfg->report_email == NULL)
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "no "
		    "ReportEmail: the reports have no sender address (From, "
		    "email, the receiver in the file name)");
	else if (strpbrk(cfg->report_email, "<>\" \t") != NULL ||
	    !addr_parse_envelope(cfg->report_email, &box) ||
	    box.local[0] == '\0' || !addr_domain_valid(box.domain))
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR, "ReportEmail "
		    "%s is not one plain address", cfg->report_email);
	else
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_OK, "ReportEmail "
		    "%s: reports are sent from it; its domain %s must pass "
		    "DMARC at the receivers (sign its mail)", cfg->report_email,
		    box.domain);
}

/* doctor_reports_sendmail - the program of ReportSendmail */
static void
doctor_reports_sendmail(const struct config *cfg,
    const struct doctor_user *u, struct dns_service *dns,
    struct doctor_report *rep)
{
	const char *cmd = cfg->report_sendmail ? cfg->report_sendmail :
	    CONFIG_DEFAULT_SENDMAIL;
	char prog[DOCTOR_REPORTS_MAX_PATH];
	struct stat sb;

	(void)dns;
	if (cfg->report_smtp_relay != NULL)
		return;		/* the relay wins: see doctor_reports_relay */
	snprintf(prog, sizeof(prog), "%.*s", (int)strcspn(cmd, " \t"), cmd);
	if (stat(prog, &sb) < 0)
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR,
		    "ReportSendmail: %s: %s: no report can be sent", prog,
		    strerror(errno));
	else if (!S_ISREG(sb.st_mode) || !doctor_user_may(u, &sb, 1))
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR,
		    "ReportSendmail: %s is not a program %s can run (mode "
		    "%04o): no report can be sent", prog, u->name,
		    (unsigned)(sb.st_mode & 07777));
	else
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_OK, "ReportSendmail "
		    "%s: the program exists and %s can run it", prog, u->name);
}

/* doctor_reports_relay - ReportSMTPRelay is there and talks SMTP */
static void
doctor_reports_relay(const struct config *cfg, const struct doctor_user *u,
    struct dns_service *dns, struct doctor_report *rep)
{
	struct report_sender s;
	char why[DOCTOR_REPORTS_ERRLEN];

	(void)u;
	if (cfg->report_smtp_relay == NULL)
		return;
	memset(&s, 0, sizeof(s));
	s.relay = cfg->report_smtp_relay;
	s.helo = config_report_gateway(cfg);
	s.dns = dns;
	if (report_send_probe(&s, why, sizeof(why)) == REPORT_SENT)
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_OK, "ReportSMTPRelay "
		    "%s greets and takes EHLO %s: reports leave through it",
		    cfg->report_smtp_relay, s.helo);
	else
		doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_ERROR,
		    "ReportSMTPRelay %s: %s: no report can be sent now",
		    cfg->report_smtp_relay, why);
}

/* One part of the report set-up; a new way to send is one more. */
struct doctor_reports_part {
	void	(*check)(const struct config *cfg,
		    const struct doctor_user *u, struct dns_service *dns,
		    struct doctor_report *rep);
};

static const struct doctor_reports_part doctor_reports_parts[] = {
	{ doctor_reports_store },
	{ doctor_reports_sender },
	{ doctor_reports_sendmail },
	{ doctor_reports_relay },
};

/* doctor_reports - the report set-up of cfg, when it has one */
void
doctor_reports(const struct config *cfg, struct dns_service *dns,
    struct doctor_report *rep)
{
	struct doctor_user u;

	if (cfg->report_store == NULL && !cfg->failure_reports) {
		if (cfg->report_org_name != NULL || cfg->report_email != NULL)
			doctor_add(rep, DOCTOR_REPORTS_CHECK, DOCTOR_WARNING,
			    "ReportOrgName or ReportEmail is set, but neither "
			    "ReportStore nor FailureReports: no report is "
			    "recorded or sent");
		return;
	}
	memset(&u, 0, sizeof(u));
	if (cfg->userid != NULL) {
		if (!doctor_user_configured(cfg->userid, &u, rep))
			return;
	} else
		doctor_user_self(&u);
	for (size_t i = 0; i < sizeof(doctor_reports_parts) /
	    sizeof(doctor_reports_parts[0]); i++)
		doctor_reports_parts[i].check(cfg, &u, dns, rep);
}
