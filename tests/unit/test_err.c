/* glasstcp — unit tests for error names and texts (include/glass/err.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <glass/err.h>

static void test_err_strerror_linux_wording(void **state)
{
    (void)state;
    assert_string_equal(glass_strerror(GLASS_ECONNREFUSED), "Connection refused");
    assert_string_equal(glass_strerror(-GLASS_ECONNREFUSED), "Connection refused");
    assert_string_equal(glass_strerror(-GLASS_ECONNRESET), "Connection reset by peer");
    assert_string_equal(glass_strerror(-GLASS_EAGAIN), "Resource temporarily unavailable");
    assert_string_equal(glass_strerror(-GLASS_EPIPE), "Broken pipe");
    assert_string_equal(glass_strerror(GLASS_EINPROGRESS), "Operation now in progress");
}

static void test_err_strerror_unknown(void **state)
{
    (void)state;
    assert_string_equal(glass_strerror(0), "Unknown error");
    assert_string_equal(glass_strerror(3), "Unknown error");
    assert_string_equal(glass_strerror(-12345), "Unknown error");
    assert_string_equal(glass_strerror(INT_MAX), "Unknown error");
    assert_string_equal(glass_strerror(INT_MIN), "Unknown error");
}

static void test_err_errname(void **state)
{
    (void)state;
    assert_string_equal(glass_errname(GLASS_ECONNREFUSED), "ECONNREFUSED");
    assert_string_equal(glass_errname(-GLASS_ETIMEDOUT), "ETIMEDOUT");
    assert_string_equal(glass_errname(-GLASS_EADDRINUSE), "EADDRINUSE");
    assert_null(glass_errname(0));
    assert_null(glass_errname(-1000));
    assert_null(glass_errname(INT_MIN));
}

static void test_err_errparse(void **state)
{
    (void)state;
    assert_int_equal(glass_errparse("ECONNRESET"), GLASS_ECONNRESET);
    assert_int_equal(glass_errparse("econnreset"), GLASS_ECONNRESET);
    assert_int_equal(glass_errparse("EAGAIN"), 11);
    assert_int_equal(glass_errparse(""), 0);
    assert_int_equal(glass_errparse("E"), 0);
    assert_int_equal(glass_errparse("ECONN"), 0);
    assert_int_equal(glass_errparse("ECONNRESETX"), 0);
    assert_int_equal(glass_errparse(" ECONNRESET"), 0);
    assert_int_equal(glass_errparse("EWOULDBLOCK"), 0);
    assert_int_equal(glass_errparse(NULL), 0);
}

/* Every entry of the X-macro list round-trips, and the numbers are Linux's. */
static void test_err_every_code_round_trips(void **state)
{
    (void)state;
#define CHECK(name, val, text)                                                                     \
    assert_int_equal(GLASS_##name, val);                                                           \
    assert_string_equal(glass_errname(val), #name);                                                \
    assert_string_equal(glass_errname(-(val)), #name);                                             \
    assert_string_equal(glass_strerror(-(val)), text);                                             \
    assert_int_equal(glass_errparse(#name), val);
    GLASS_ERRORS(CHECK)
#undef CHECK
}

#ifdef __linux__
static void test_err_values_match_linux_errno(void **state)
{
    (void)state;
    assert_int_equal(GLASS_EAGAIN, EAGAIN);
    assert_int_equal(GLASS_EINVAL, EINVAL);
    assert_int_equal(GLASS_ECONNREFUSED, ECONNREFUSED);
    assert_int_equal(GLASS_ECONNRESET, ECONNRESET);
    assert_int_equal(GLASS_ETIMEDOUT, ETIMEDOUT);
    assert_int_equal(GLASS_EADDRINUSE, EADDRINUSE);
    assert_int_equal(GLASS_EINPROGRESS, EINPROGRESS);
    assert_int_equal(GLASS_ENOTCONN, ENOTCONN);
    assert_int_equal(GLASS_EPIPE, EPIPE);
    assert_string_equal(glass_strerror(-GLASS_ECONNREFUSED), strerror(ECONNREFUSED));
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_strerror_linux_wording),
        cmocka_unit_test(test_err_strerror_unknown),
        cmocka_unit_test(test_err_errname),
        cmocka_unit_test(test_err_errparse),
        cmocka_unit_test(test_err_every_code_round_trips),
#ifdef __linux__
        cmocka_unit_test(test_err_values_match_linux_errno),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
