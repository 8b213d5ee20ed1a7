/* placeholder, being written */
#include "buildconf.h"
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
static void t_placeholder(void **state) { (void)state; }
int main(void) { const struct CMUnitTest t[] = { cmocka_unit_test(t_placeholder) }; return cmocka_run_group_tests(t, NULL, NULL); }
