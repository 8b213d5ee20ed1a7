/*
 * NAME
 *	fuzz_netlist - libFuzzer harness of netlist.c: CIDR lists given
 *	inline and in a file (InternalHosts, IgnoreHosts)
 * SYNOPSIS
 *	fuzz_netlist [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a list of networks. It is given to netlist_add_list()
 *	as the value of a configuration key would be, each of its lines to
 *	netlist_add() alone, and written to a file in a private directory
 *	that a configuration names ("InternalHosts /dir/hosts"), so that
 *	config_load() reads it one entry per line as the daemon does.
 *	Addresses taken from the input are matched against every list.
 *
 *	Checked beyond "no crash": a refused entry says why; a list that
 *	loaded holds at most NETLIST_MAX_ENTRIES entries; an entry that was
 *	accepted alone, not negated, matches its own address (also in its
 *	IPv4-mapped IPv6 form when it is IPv4), since it contains it.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "netlist.h"
#include "util.h"

#define FUZZ_NET_MAX_LINES	64	/* lines tried one by one */
#define FUZZ_NET_TEXT		128	/* bytes of an address kept */

static char fuzz_net_hosts[FUZZ_MAX_PATH];
static char fuzz_net_conf[FUZZ_MAX_PATH];

/* fuzz_net_one - one entry alone: accepted, it contains its address */
static void
fuzz_net_one(const char *line)
{
	char text[FUZZ_NET_TEXT], mapped[FUZZ_NET_TEXT + 8], *s, *slash;
	const char *why = NULL;
	struct netlist *nl = netlist_new();
	unsigned char bin[4];

	if (!netlist_add(nl, line, &why)) {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		netlist_free(nl);
		return;
	}
	FUZZ_CHECK(netlist_count(nl) == 1);
	snprintf(text, sizeof(text), "%s", line);
	s = util_trim(text);
	if (*s != '!') {
		if ((slash = strchr(s, '/')) != NULL)
			*slash = '\0';
		FUZZ_CHECK(netlist_match_str(nl, s));
		if (inet_pton(AF_INET, s, bin) == 1) {
			snprintf(mapped, sizeof(mapped), "::ffff:%s", s);
			FUZZ_CHECK(netlist_match_str(nl, mapped));
		}
	}
	netlist_free(nl);
}

/* LLVMFuzzerInitialize - the file names */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char conf[2 * FUZZ_MAX_PATH];

	(void)argc;
	(void)argv;
	fuzz_path("hosts", fuzz_net_hosts, sizeof(fuzz_net_hosts));
	fuzz_path("authmilter.conf", fuzz_net_conf, sizeof(fuzz_net_conf));
	snprintf(conf, sizeof(conf), "InternalHosts %s\n", fuzz_net_hosts);
	fuzz_write(fuzz_net_conf, conf, strlen(conf));
	return 0;
}

/* LLVMFuzzerTestOneInput - the list three ways */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[FUZZ_NET_MAX_LINES], *block, *list, *bad = NULL;
	char err[CONFIG_ERRLEN] = "";
	const char *why = NULL;
	struct netlist *nl;
	struct config *cfg;
	size_t n;

	list = fuzz_strdup(data, size);
	nl = netlist_new();
	if (!netlist_add_list(nl, list, &why, &bad)) {
		FUZZ_CHECK(why != NULL && bad != NULL);
		FUZZ_CHECK(netlist_count(nl) == 0);
	}
	FUZZ_CHECK(netlist_count(nl) <= NETLIST_MAX_ENTRIES);
	free(bad);

	n = fuzz_fields(data, size, '\n', f, FUZZ_NET_MAX_LINES, &block);
	for (size_t i = 0; i < n; i++) {
		fuzz_net_one(f[i]);
		(void)netlist_match_str(nl, util_trim(f[i]));
	}
	netlist_free(nl);
	free(block);

	fuzz_write(fuzz_net_hosts, list, strlen(list));
	free(list);
	cfg = config_load(fuzz_net_conf, err, sizeof(err));
	if (cfg == NULL)
		FUZZ_CHECK(err[0] != '\0');
	else {
		FUZZ_CHECK(netlist_count(cfg->internal_hosts) <=
		    NETLIST_MAX_ENTRIES);
		(void)netlist_match_str(cfg->internal_hosts, "127.0.0.1");
		(void)netlist_match_str(cfg->internal_hosts, "2001:db8::1");
		config_unref(cfg);
	}
	return 0;
}
