/*
 * test_hdrlist.c - unit tests for hdrlist.c: the default lists, parsing
 * (replace and "+" extend), name validity, bounds, and that a failed
 * parse leaves the list as it was.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdrlist.h"
#include "util.h"

/* count_array - entries before the NULL */
static size_t
count_array(const char *const *a)
{
	size_t n = 0;

	while (a[n] != NULL)
		n++;
	return n;
}

/* in_array - is name (exactly) in the NULL-terminated array? */
static bool
in_array(const char *const *a, const char *name)
{
	for (size_t i = 0; a[i] != NULL; i++)
		if (strcmp(a[i], name) == 0)
			return true;
	return false;
}

/* assert_list - hl holds exactly the names of want, in that order */
static void
assert_list(const struct hdrlist *hl, const char *const *want)
{
	size_t n = count_array(want);

	assert_int_equal(hl->count, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(hl->names[i], want[i]);
	assert_null(hl->names[n]);
}

/* the default sign list: the names the brief and RFC 6376 5.4.1 ask for */
static void
test_default_sign(void **state)
{
	static const char *const must[] = { "From", "Reply-To", "Subject",
	    "Date", "To", "Cc", "Resent-Date", "Resent-From",
	    "Resent-Sender", "Resent-To", "Resent-Cc", "In-Reply-To",
	    "References", "List-Id", "List-Help", "List-Unsubscribe",
	    "List-Unsubscribe-Post", "List-Subscribe", "List-Post",
	    "List-Owner", "List-Archive", "Message-ID", "MIME-Version",
	    "Content-Type", "Content-Transfer-Encoding", "Content-ID",
	    "Content-Description", "Sender", NULL };

	(void)state;
	assert_int_equal(count_array(hdrlist_default_sign), count_array(must));
	for (size_t i = 0; must[i] != NULL; i++)
		assert_true(in_array(hdrlist_default_sign, must[i]));
	for (size_t i = 0; hdrlist_default_sign[i] != NULL; i++)
		assert_true(hdrlist_valid_name(hdrlist_default_sign[i]));
	/* never sign fields that change in transit */
	assert_false(in_array(hdrlist_default_sign, "Received"));
	assert_false(in_array(hdrlist_default_sign, "Return-Path"));
	assert_false(in_array(hdrlist_default_sign, "DKIM-Signature"));
}

/* the default oversign list, and that each of them is also signed */
static void
test_default_oversign(void **state)
{
	static const char *const must[] = { "From", "To", "Cc", "Subject",
	    "Date", "Reply-To", "Message-ID", "MIME-Version", "Content-Type",
	    "Content-Transfer-Encoding", NULL };

	(void)state;
	assert_int_equal(count_array(hdrlist_default_oversign),
	    count_array(must));
	for (size_t i = 0; must[i] != NULL; i++) {
		assert_true(in_array(hdrlist_default_oversign, must[i]));
		assert_true(in_array(hdrlist_default_sign, must[i]));
	}
}

/* init gives an empty, NULL-terminated array; free can be repeated */
static void
test_init_free(void **state)
{
	struct hdrlist hl;

	(void)state;
	hdrlist_init(&hl);
	assert_non_null(hl.names);
	assert_null(hl.names[0]);
	assert_int_equal(hl.count, 0);
	assert_false(hdrlist_contains(&hl, "From"));
	hdrlist_free(&hl);
	assert_null(hl.names);
	assert_int_equal(hl.count, 0);
	hdrlist_free(&hl);
}

/* set_default copies the array; it replaces what was there */
static void
test_set_default(void **state)
{
	static const char *const two[] = { "From", "Subject", NULL };
	struct hdrlist hl;

	(void)state;
	hdrlist_init(&hl);
	hdrlist_set_default(&hl, hdrlist_default_sign);
	assert_list(&hl, hdrlist_default_sign);
	assert_true(hl.names[0] != hdrlist_default_sign[0]);	/* a copy */
	hdrlist_set_default(&hl, two);
	assert_list(&hl, two);
	assert_false(hdrlist_contains(&hl, "To"));
	hdrlist_set_default(&hl, NULL);
	assert_int_equal(hl.count, 0);
	assert_null(hl.names[0]);
	hdrlist_free(&hl);
}

/* contains: case-insensitive, whole names only */
static void
test_contains(void **state)
{
	struct hdrlist hl;

	(void)state;
	hdrlist_init(&hl);
	hdrlist_set_default(&hl, hdrlist_default_oversign);
	assert_true(hdrlist_contains(&hl, "from"));
	assert_true(hdrlist_contains(&hl, "FROM"));
	assert_true(hdrlist_contains(&hl, "content-TYPE"));
	assert_false(hdrlist_contains(&hl, "Fro"));
	assert_false(hdrlist_contains(&hl, "From "));
	assert_false(hdrlist_contains(&hl, "Content"));
	assert_false(hdrlist_contains(&hl, ""));
	hdrlist_free(&hl);
}

/* parse replaces the contents; commas and white space separate */
static void
test_parse_replace(void **state)
{
	static const char *const want[] = { "From", "To", "X-Custom",
	    "List-Id", NULL };
	struct hdrlist hl;
	const char *why = NULL;

	(void)state;
	hdrlist_init(&hl);
	hdrlist_set_default(&hl, hdrlist_default_sign);
	assert_true(hdrlist_parse(&hl, " From,To ,\tX-Custom\n, ,List-Id ",
	    &why));
	assert_list(&hl, want);
	assert_false(hdrlist_contains(&hl, "Subject"));
	hdrlist_free(&hl);
}

/* a name given twice (in any case) is kept once, where it first was */
static void
test_parse_duplicates(void **state)
{
	static const char *const want[] = { "From", "Subject", NULL };
	struct hdrlist hl;
	const char *why = NULL;

	(void)state;
	hdrlist_init(&hl);
	assert_true(hdrlist_parse(&hl, "From, Subject, FROM, from, subject",
	    &why));
	assert_list(&hl, want);
	hdrlist_free(&hl);
}

/* a leading "+" extends the current list */
static void
test_parse_extend(void **state)
{
	struct hdrlist hl;
	const char *why = NULL;

	(void)state;
	hdrlist_init(&hl);
	hdrlist_set_default(&hl, hdrlist_default_oversign);
	assert_true(hdrlist_parse(&hl, "  +List-Foo, X-Bar, from", &why));
	assert_int_equal(hl.count, count_array(hdrlist_default_oversign) + 2);
	assert_string_equal(hl.names[0], "From");
	assert_string_equal(hl.names[hl.count - 2], "List-Foo");
	assert_string_equal(hl.names[hl.count - 1], "X-Bar");
	assert_null(hl.names[hl.count]);
	/* "+" alone adds nothing and keeps everything */
	assert_true(hdrlist_parse(&hl, "+", &why));
	assert_int_equal(hl.count, count_array(hdrlist_default_oversign) + 2);
	/* "+" only counts at the start of the value; elsewhere it is ftext */
	assert_true(hdrlist_parse(&hl, "From, +X-Baz", &why));
	assert_int_equal(hl.count, 2);
	assert_string_equal(hl.names[1], "+X-Baz");
	assert_false(hdrlist_contains(&hl, "X-Bar"));
	hdrlist_free(&hl);
}

/* an empty value gives an empty list */
static void
test_parse_empty(void **state)
{
	struct hdrlist hl;
	const char *why = NULL;

	(void)state;
	hdrlist_init(&hl);
	hdrlist_set_default(&hl, hdrlist_default_sign);
	assert_true(hdrlist_parse(&hl, "", &why));
	assert_int_equal(hl.count, 0);
	assert_null(hl.names[0]);
	assert_true(hdrlist_parse(&hl, " , ,\t", &why));
	assert_int_equal(hl.count, 0);
	hdrlist_free(&hl);
}

/* valid_name: printable US-ASCII except ':' and space, bounded */
static void
test_valid_name(void **state)
{
	char longest[HDRLIST_MAX_NAMELEN + 1];
	char toolong[HDRLIST_MAX_NAMELEN + 2];

	(void)state;
	assert_true(hdrlist_valid_name("From"));
	assert_true(hdrlist_valid_name("X-Weird!#$%&'*+.^_`|~name"));
	assert_true(hdrlist_valid_name("a"));
	assert_false(hdrlist_valid_name(""));
	assert_false(hdrlist_valid_name(NULL));
	assert_false(hdrlist_valid_name("From:"));
	assert_false(hdrlist_valid_name("Fr om"));
	assert_false(hdrlist_valid_name("From\t"));
	assert_false(hdrlist_valid_name("Fr\x7fom"));
	assert_false(hdrlist_valid_name("Fr\x01om"));
	assert_false(hdrlist_valid_name("Subj\xc3\xa9" "ct"));
	assert_false(hdrlist_valid_name("From\r\n"));
	memset(longest, 'x', sizeof longest - 1);
	longest[sizeof longest - 1] = '\0';
	assert_true(hdrlist_valid_name(longest));
	memset(toolong, 'x', sizeof toolong - 1);
	toolong[sizeof toolong - 1] = '\0';
	assert_false(hdrlist_valid_name(toolong));
}

/* parse refuses bad names and keeps the old contents */
static void
test_parse_bad_names(void **state)
{
	static const char *const bad[] = { "From, Sub:ject", "From:",
	    "X-\x01", "X-\x80", "From, Subj\xc3\xa9" "ct", ":", "+X:Y", NULL };
	struct hdrlist hl;

	(void)state;
	hdrlist_init(&hl);
	hdrlist_set_default(&hl, hdrlist_default_oversign);
	for (size_t i = 0; bad[i] != NULL; i++) {
		const char *why = NULL;

		if (hdrlist_parse(&hl, bad[i], &why))
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_non_null(why);
		assert_non_null(strstr(why, "invalid character"));
		assert_list(&hl, hdrlist_default_oversign);
	}
	hdrlist_free(&hl);
}

/* a name longer than HDRLIST_MAX_NAMELEN is refused */
static void
test_parse_long_name(void **state)
{
	char list[HDRLIST_MAX_NAMELEN + 16];
	struct hdrlist hl;
	const char *why = NULL;

	(void)state;
	hdrlist_init(&hl);
	strcpy(list, "From, ");
	memset(list + 6, 'y', HDRLIST_MAX_NAMELEN + 1);
	list[6 + HDRLIST_MAX_NAMELEN + 1] = '\0';
	assert_false(hdrlist_parse(&hl, list, &why));
	assert_non_null(strstr(why, "too long"));
	assert_int_equal(hl.count, 0);
	/* exactly the maximum is fine */
	list[6 + HDRLIST_MAX_NAMELEN] = '\0';
	assert_true(hdrlist_parse(&hl, list, &why));
	assert_int_equal(hl.count, 2);
	hdrlist_free(&hl);
}

/* build_names - "X-0, X-1, ..." with n names (caller frees) */
static char *
build_names(size_t n)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%sX-%zu", i ? ", " : "", i);
	return buf_steal(&b);
}

/* at most HDRLIST_MAX_NAMES names, by replace or by "+" */
static void
test_parse_too_many(void **state)
{
	struct hdrlist hl;
	const char *why = NULL;
	char *max = build_names(HDRLIST_MAX_NAMES);
	char *over = build_names(HDRLIST_MAX_NAMES + 1);

	(void)state;
	hdrlist_init(&hl);
	assert_true(hdrlist_parse(&hl, max, &why));
	assert_int_equal(hl.count, HDRLIST_MAX_NAMES);
	assert_null(hl.names[HDRLIST_MAX_NAMES]);
	/* a duplicate does not count against the limit */
	assert_true(hdrlist_parse(&hl, "+X-0", &why));
	assert_int_equal(hl.count, HDRLIST_MAX_NAMES);
	why = NULL;
	assert_false(hdrlist_parse(&hl, "+X-New", &why));
	assert_non_null(why);
	assert_non_null(strstr(why, "too many"));
	assert_int_equal(hl.count, HDRLIST_MAX_NAMES);
	assert_false(hdrlist_contains(&hl, "X-New"));
	assert_false(hdrlist_parse(&hl, over, &why));
	assert_int_equal(hl.count, HDRLIST_MAX_NAMES);
	hdrlist_free(&hl);
	free(max);
	free(over);
}

/* set_default stops at the bound instead of overflowing */
static void
test_set_default_bound(void **state)
{
	const char **many = calloc(HDRLIST_MAX_NAMES + 11, sizeof *many);
	char (*names)[16] = calloc(HDRLIST_MAX_NAMES + 10, sizeof *names);
	struct hdrlist hl;

	(void)state;
	assert_non_null(many);
	assert_non_null(names);
	for (size_t i = 0; i < HDRLIST_MAX_NAMES + 10; i++) {
		snprintf(names[i], sizeof names[i], "X-%zu", i);
		many[i] = names[i];
	}
	hdrlist_init(&hl);
	hdrlist_set_default(&hl, many);
	assert_int_equal(hl.count, HDRLIST_MAX_NAMES);
	assert_null(hl.names[HDRLIST_MAX_NAMES]);
	hdrlist_free(&hl);
	free(many);
	free(names);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_sign),
		cmocka_unit_test(test_default_oversign),
		cmocka_unit_test(test_init_free),
		cmocka_unit_test(test_set_default),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_parse_replace),
		cmocka_unit_test(test_parse_duplicates),
		cmocka_unit_test(test_parse_extend),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_valid_name),
		cmocka_unit_test(test_parse_bad_names),
		cmocka_unit_test(test_parse_long_name),
		cmocka_unit_test(test_parse_too_many),
		cmocka_unit_test(test_set_default_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
