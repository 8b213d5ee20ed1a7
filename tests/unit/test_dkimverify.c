/*
 * test_dkimverify.c - unit tests for dkimverify.c: the result of
 * libopendkim's error codes (expired signatures and revoked keys are
 * permerror, not fail).
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
#include <time.h>

#include <opendkim/dkim.h>

#include "dkimverify.h"
#include "util.h"

#define T_WHY		128

/* issue 9 (4): the error codes of libopendkim and their results */
static void
test_error_results(void **state)
{
	char why[T_WHY];

	(void)state;
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_EXPIRED, why,
	    sizeof(why)), DKIMV_PERMERROR);
	assert_string_equal(why, "signature expired");
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_KEYREVOKED, why,
	    sizeof(why)), DKIMV_PERMERROR);
	assert_string_equal(why, "key revoked");
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_FUTURE, why,
	    sizeof(why)), DKIMV_PERMERROR);
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_BADSIG, why,
	    sizeof(why)), DKIMV_FAIL);
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_KEYFAIL, why,
	    sizeof(why)), DKIMV_TEMPERROR);
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_NOKEY, why,
	    sizeof(why)), DKIMV_PERMERROR);
	assert_true(why[0] != '\0');
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_KEYTOOSMALL, why,
	    sizeof(why)), DKIMV_POLICY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
