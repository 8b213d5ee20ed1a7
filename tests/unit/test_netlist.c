/*
 * test_netlist.c - unit tests for netlist.c: CIDR parsing for IPv4 and
 * IPv6, negation and first-match order, IPv4-mapped addresses, lists,
 * and the bound on the number of entries.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlist.h"

/* nl_of - a list built from text that must parse */
static struct netlist *
nl_of(const char *list)
{
	struct netlist *nl = netlist_new();
	const char *why = NULL;
	char *bad = NULL;

	assert_non_null(nl);
	if (!netlist_add_list(nl, list, &why, &bad))
		fail_msg("\"%s\" refused at \"%s\": %s", list, bad, why);
	return nl;
}

/* refused - does netlist_add() refuse entry, giving a reason? */
static void
refused(const char *entry)
{
	struct netlist *nl = netlist_new();
	const char *why = NULL;

	if (netlist_add(nl, entry, &why))
		fail_msg("\"%s\" was accepted", entry);
	assert_non_null(why);
	assert_true(strlen(why) > 0);
	assert_int_equal(netlist_count(nl), 0);
	netlist_free(nl);
}

/* IPv4 hosts and networks */
static void
test_v4_basic(void **state)
{
	struct netlist *nl = nl_of("192.0.2.1, 10.0.0.0/8 172.16.0.0/12");

	(void)state;
	assert_int_equal(netlist_count(nl), 3);
	assert_true(netlist_match_str(nl, "192.0.2.1"));
	assert_false(netlist_match_str(nl, "192.0.2.2"));
	assert_true(netlist_match_str(nl, "10.0.0.0"));
	assert_true(netlist_match_str(nl, "10.255.255.255"));
	assert_false(netlist_match_str(nl, "11.0.0.0"));
	assert_false(netlist_match_str(nl, "9.255.255.255"));
	assert_true(netlist_match_str(nl, "172.16.0.1"));
	assert_true(netlist_match_str(nl, "172.31.255.255"));
	assert_false(netlist_match_str(nl, "172.32.0.0"));
	assert_false(netlist_match_str(nl, "172.15.255.255"));
	netlist_free(nl);
}

/* IPv4 prefixes that do not fall on byte boundaries, /0 and /32 */
static void
test_v4_prefixes(void **state)
{
	struct netlist *nl;

	(void)state;
	nl = nl_of("198.51.100.64/26");
	assert_false(netlist_match_str(nl, "198.51.100.63"));
	assert_true(netlist_match_str(nl, "198.51.100.64"));
	assert_true(netlist_match_str(nl, "198.51.100.127"));
	assert_false(netlist_match_str(nl, "198.51.100.128"));
	netlist_free(nl);

	nl = nl_of("0.0.0.0/0");
	assert_true(netlist_match_str(nl, "0.0.0.0"));
	assert_true(netlist_match_str(nl, "255.255.255.255"));
	assert_false(netlist_match_str(nl, "::1"));
	netlist_free(nl);

	nl = nl_of("203.0.113.7/32");
	assert_true(netlist_match_str(nl, "203.0.113.7"));
	assert_false(netlist_match_str(nl, "203.0.113.6"));
	netlist_free(nl);

	nl = nl_of("203.0.113.7/31");
	assert_true(netlist_match_str(nl, "203.0.113.6"));
	assert_true(netlist_match_str(nl, "203.0.113.7"));
	assert_false(netlist_match_str(nl, "203.0.113.8"));
	netlist_free(nl);
}

/* host bits beyond the prefix are ignored, as OpenDKIM does */
static void
test_v4_host_bits(void **state)
{
	struct netlist *nl = nl_of("10.1.2.3/8");

	(void)state;
	assert_true(netlist_match_str(nl, "10.200.0.1"));
	assert_false(netlist_match_str(nl, "11.1.2.3"));
	netlist_free(nl);
}

/* IPv6: /128 host, a /32 network, /0, and an odd prefix */
static void
test_v6_basic(void **state)
{
	struct netlist *nl;

	(void)state;
	nl = nl_of("::1 2001:db8::/32");
	assert_true(netlist_match_str(nl, "::1"));
	assert_false(netlist_match_str(nl, "::2"));
	assert_true(netlist_match_str(nl, "2001:db8::1"));
	assert_true(netlist_match_str(nl, "2001:db8:ffff:ffff::1"));
	assert_false(netlist_match_str(nl, "2001:db9::1"));
	assert_false(netlist_match_str(nl, "127.0.0.1"));
	netlist_free(nl);

	nl = nl_of("2001:db8::5/128");
	assert_true(netlist_match_str(nl, "2001:db8::5"));
	assert_true(netlist_match_str(nl, "2001:DB8:0:0:0:0:0:5"));
	assert_false(netlist_match_str(nl, "2001:db8::4"));
	netlist_free(nl);

	nl = nl_of("::/0");
	assert_true(netlist_match_str(nl, "::"));
	assert_true(netlist_match_str(nl, "ffff:ffff:ffff:ffff:ffff:ffff:"
	    "ffff:ffff"));
	assert_false(netlist_match_str(nl, "192.0.2.1"));
	netlist_free(nl);

	nl = nl_of("fe80::/10");
	assert_true(netlist_match_str(nl, "fe80::1"));
	assert_true(netlist_match_str(nl, "febf::1"));
	assert_false(netlist_match_str(nl, "fec0::1"));
	netlist_free(nl);

	nl = nl_of("2001:db8::/127");
	assert_true(netlist_match_str(nl, "2001:db8::"));
	assert_true(netlist_match_str(nl, "2001:db8::1"));
	assert_false(netlist_match_str(nl, "2001:db8::2"));
	netlist_free(nl);
}

/* a mapped client address matches IPv4 entries */
static void
test_mapped_client(void **state)
{
	struct netlist *nl = nl_of("192.0.2.0/24");

	(void)state;
	assert_true(netlist_match_str(nl, "::ffff:192.0.2.10"));
	assert_true(netlist_match_str(nl, "::FFFF:c000:020a"));
	assert_false(netlist_match_str(nl, "::ffff:192.0.3.10"));
	/* IPv4-compatible (deprecated) and NAT64 forms are not mapped */
	assert_false(netlist_match_str(nl, "::192.0.2.10"));
	assert_false(netlist_match_str(nl, "64:ff9b::192.0.2.10"));
	netlist_free(nl);
}

/* a mapped client still matches IPv6 entries that contain it */
static void
test_mapped_v6_entry(void **state)
{
	struct netlist *nl = nl_of("::/0");

	(void)state;
	assert_true(netlist_match_str(nl, "::ffff:192.0.2.10"));
	netlist_free(nl);
	nl = nl_of("::ffff:0:0/96");
	assert_true(netlist_match_str(nl, "::ffff:192.0.2.10"));
	assert_true(netlist_match_str(nl, "192.0.2.10"));
	assert_false(netlist_match_str(nl, "2001:db8::1"));
	netlist_free(nl);
}

/* an entry written as a mapped network is an IPv4 network */
static void
test_mapped_entry(void **state)
{
	struct netlist *nl = nl_of("::ffff:10.0.0.0/104");

	(void)state;
	assert_true(netlist_match_str(nl, "10.1.2.3"));
	assert_true(netlist_match_str(nl, "::ffff:10.1.2.3"));
	assert_false(netlist_match_str(nl, "11.1.2.3"));
	netlist_free(nl);
	nl = nl_of("::ffff:203.0.113.9");
	assert_true(netlist_match_str(nl, "203.0.113.9"));
	assert_false(netlist_match_str(nl, "203.0.113.8"));
	netlist_free(nl);
}

/* negation: the first matching entry decides */
static void
test_negation_order(void **state)
{
	struct netlist *nl;

	(void)state;
	nl = nl_of("!10.0.0.5, 10.0.0.0/8");
	assert_false(netlist_match_str(nl, "10.0.0.5"));
	assert_true(netlist_match_str(nl, "10.0.0.6"));
	assert_false(netlist_match_str(nl, "192.0.2.1"));
	netlist_free(nl);

	/* the other way round the negation comes too late */
	nl = nl_of("10.0.0.0/8, !10.0.0.5");
	assert_true(netlist_match_str(nl, "10.0.0.5"));
	netlist_free(nl);

	nl = nl_of("!2001:db8::/48 2001:db8::/32 !::/0");
	assert_false(netlist_match_str(nl, "2001:db8::1"));
	assert_true(netlist_match_str(nl, "2001:db8:1::1"));
	assert_false(netlist_match_str(nl, "2001:db9::1"));
	netlist_free(nl);

	/* a negated IPv4 entry also refuses the mapped form */
	nl = nl_of("!192.0.2.1 ::/0 0.0.0.0/0");
	assert_false(netlist_match_str(nl, "::ffff:192.0.2.1"));
	assert_false(netlist_match_str(nl, "192.0.2.1"));
	assert_true(netlist_match_str(nl, "192.0.2.2"));
	netlist_free(nl);
}

/* malformed entries are refused with a reason */
static void
test_bad_entries(void **state)
{
	static const char *const bad[] = {
		"", "   ", "!", "/24", "1.2.3.4/", "1.2.3.4/33",
		"1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/8x", "1.2.3.4/0008",
		"1.2.3.4/ 8", "1.2.3.4//8", "1.2.3.4/8/8", "1.2.3", "1.2.3.4.5",
		"256.1.1.1", "01.2.3.4x", "1.2.3.4 5.6.7.8", "example.com",
		"localhost", "garbage", "::1/129", "::1/", "2001:db8:::1",
		"2001:db8::g", "fe80::1%eth0", "[::1]", "!!1.2.3.4",
		"! 1.2.3.4", "1.2.3.4/4294967328",
		NULL
	};

	(void)state;
	for (int i = 0; bad[i] != NULL; i++)
		refused(bad[i]);
}

/* the entry-length bound */
static void
test_long_entry(void **state)
{
	char big[200];

	(void)state;
	memset(big, '1', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	refused(big);
}

/* the reasons say what is wrong */
static void
test_reasons(void **state)
{
	struct netlist *nl = netlist_new();
	const char *why = NULL;

	(void)state;
	assert_false(netlist_add(nl, "1.2.3.4/33", &why));
	assert_non_null(strstr(why, "range"));
	assert_false(netlist_add(nl, "1.2.3.4/", &why));
	assert_non_null(strstr(why, "missing prefix"));
	assert_false(netlist_add(nl, "mail.example.com", &why));
	assert_non_null(strstr(why, "host names"));
	assert_false(netlist_add(nl, "2001:db8::zz", &why));
	assert_non_null(strstr(why, "IPv6"));
	netlist_free(nl);
}

/* a bad entry in a list is named, and nothing of the list is kept */
static void
test_list_error(void **state)
{
	struct netlist *nl = nl_of("127.0.0.1");
	const char *why = NULL;
	char *bad = NULL;

	(void)state;
	assert_false(netlist_add_list(nl, "10.0.0.0/8, 192.0.2.0/33, ::1",
	    &why, &bad));
	assert_non_null(bad);
	assert_string_equal(bad, "192.0.2.0/33");
	assert_non_null(why);
	free(bad);
	assert_int_equal(netlist_count(nl), 1);
	assert_false(netlist_match_str(nl, "10.0.0.1"));
	assert_true(netlist_match_str(nl, "127.0.0.1"));
	netlist_free(nl);
}

/* separators: commas, blanks, tabs, newlines, in any mix */
static void
test_list_separators(void **state)
{
	struct netlist *nl = nl_of(" ,\t127.0.0.1,,::1\n\t10.0.0.0/8 ,  ");

	(void)state;
	assert_int_equal(netlist_count(nl), 3);
	netlist_free(nl);
	nl = nl_of("");
	assert_int_equal(netlist_count(nl), 0);
	assert_false(netlist_match_str(nl, "127.0.0.1"));
	netlist_free(nl);
}

/* binary addresses and unusual calls */
static void
test_binary(void **state)
{
	struct netlist *nl = nl_of("192.0.2.0/24, 2001:db8::/32");
	struct in_addr a4;
	struct in6_addr a6;

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.77", &a4), 1);
	assert_true(netlist_match(nl, AF_INET, &a4));
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::77", &a6), 1);
	assert_true(netlist_match(nl, AF_INET6, &a6));
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.77", &a6), 1);
	assert_true(netlist_match(nl, AF_INET6, &a6));
	assert_false(netlist_match(nl, AF_UNIX, &a6));
	assert_false(netlist_match(nl, AF_INET, NULL));
	assert_false(netlist_match(NULL, AF_INET, &a4));
	assert_false(netlist_match_str(nl, "not an address"));
	assert_false(netlist_match_str(nl, ""));
	assert_false(netlist_match_str(nl, NULL));
	assert_int_equal(netlist_count(NULL), 0);
	netlist_free(nl);
	netlist_free(NULL);
}

/* the list refuses to grow past NETLIST_MAX_ENTRIES */
static void
test_max_entries(void **state)
{
	struct netlist *nl = netlist_new();
	const char *why = NULL;
	char entry[32];

	(void)state;
	for (unsigned i = 0; i < NETLIST_MAX_ENTRIES; i++) {
		snprintf(entry, sizeof entry, "10.%u.%u.%u", (i >> 16) & 0xff,
		    (i >> 8) & 0xff, i & 0xff);
		if (!netlist_add(nl, entry, &why))
			fail_msg("entry %u refused: %s", i, why);
	}
	assert_int_equal(netlist_count(nl), NETLIST_MAX_ENTRIES);
	why = NULL;
	assert_false(netlist_add(nl, "192.0.2.1", &why));
	assert_non_null(why);
	assert_int_equal(netlist_count(nl), NETLIST_MAX_ENTRIES);
	assert_true(netlist_match_str(nl, "10.0.0.0"));
	snprintf(entry, sizeof entry, "10.%u.%u.%u",
	    ((NETLIST_MAX_ENTRIES - 1) >> 16) & 0xff,
	    ((NETLIST_MAX_ENTRIES - 1) >> 8) & 0xff,
	    (NETLIST_MAX_ENTRIES - 1) & 0xff);
	assert_true(netlist_match_str(nl, entry));
	assert_false(netlist_match_str(nl, "192.0.2.1"));
	netlist_free(nl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_basic),
		cmocka_unit_test(test_v4_prefixes),
		cmocka_unit_test(test_v4_host_bits),
		cmocka_unit_test(test_v6_basic),
		cmocka_unit_test(test_mapped_client),
		cmocka_unit_test(test_mapped_v6_entry),
		cmocka_unit_test(test_mapped_entry),
		cmocka_unit_test(test_negation_order),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_long_entry),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_list_error),
		cmocka_unit_test(test_list_separators),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_max_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
