/* glasstcp — unit tests for the sequence-number helpers across the 2^32 wrap (RFC 9293 §3.4). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/seq.h"

#define S(x) glass_seq((uint32_t)(x))

static void test_seq_add_wraps(void **state)
{
    (void)state;
    assert_int_equal(glass_seq_add(S(0xFFFFFFF0u), 0x20).v, 0x10);
    assert_int_equal(glass_seq_add(S(0xFFFFFFFFu), 1).v, 0);
    assert_int_equal(glass_seq_add(S(5), 0).v, 5);
}

static void test_seq_diff_across_wrap(void **state)
{
    (void)state;
    assert_int_equal(glass_seq_diff(S(0x00000010u), S(0xFFFFFF00u)), 0x110);
    assert_int_equal(glass_seq_diff(S(0xFFFFFF00u), S(0x00000010u)), -0x110);
    assert_int_equal(glass_seq_diff(S(7), S(7)), 0);
    assert_int_equal(glass_seq_diff(S(0x7FFFFFFFu), S(0)), INT32_MAX);
    assert_int_equal(glass_seq_diff(S(0x80000000u), S(0)), INT32_MIN);
    assert_int_equal(glass_seq_sub(S(0x00000010u), S(0xFFFFFF00u)), 0x110u);
}

static void test_seq_compare_across_wrap(void **state)
{
    (void)state;
    struct glass_seq before = S(0xFFFFFF00u), after = S(0x00000010u);

    assert_true(glass_seq_lt(before, after));
    assert_true(glass_seq_le(before, after));
    assert_false(glass_seq_gt(before, after));
    assert_false(glass_seq_ge(before, after));
    assert_true(glass_seq_gt(after, before));
    assert_true(glass_seq_ge(after, before));
    assert_false(glass_seq_lt(after, before));
    assert_false(glass_seq_le(after, before));
    assert_false(glass_seq_eq(after, before));
}

static void test_seq_compare_equal(void **state)
{
    (void)state;
    struct glass_seq a = S(0xFFFFFFFFu);

    assert_true(glass_seq_eq(a, S(0xFFFFFFFFu)));
    assert_true(glass_seq_le(a, a));
    assert_true(glass_seq_ge(a, a));
    assert_false(glass_seq_lt(a, a));
    assert_false(glass_seq_gt(a, a));
}

static void test_seq_compare_without_wrap(void **state)
{
    (void)state;
    assert_true(glass_seq_lt(S(1), S(2)));
    assert_true(glass_seq_gt(S(0x7FFFFFFEu), S(0)));
    /* 2^31 - 1 apart is the farthest distance that still compares "later". */
    assert_true(glass_seq_gt(S(0x7FFFFFFFu), S(0)));
    assert_true(glass_seq_lt(S(0x80000000u), S(0))); /* 2^31 apart: reads as "before" */
}

static void test_seq_in_window_across_wrap(void **state)
{
    (void)state;
    struct glass_seq lo = S(0xFFFFFF00u), hi = S(0x00000010u);

    assert_true(glass_seq_in_window(lo, lo, hi)); /* lo is inside */
    assert_true(glass_seq_in_window(S(0xFFFFFFFFu), lo, hi));
    assert_true(glass_seq_in_window(S(0), lo, hi));
    assert_true(glass_seq_in_window(S(0x0000000Fu), lo, hi));
    assert_false(glass_seq_in_window(hi, lo, hi));             /* hi is outside */
    assert_false(glass_seq_in_window(S(0xFFFFFEFFu), lo, hi)); /* just left of lo */
    assert_false(glass_seq_in_window(S(0x80000000u), lo, hi));
}

static void test_seq_in_window_empty(void **state)
{
    (void)state;
    assert_false(glass_seq_in_window(S(5), S(5), S(5)));
    assert_false(glass_seq_in_window(S(0), S(0xFFFFFFFFu), S(0xFFFFFFFFu)));
}

static void test_seq_in_left_open_across_wrap(void **state)
{
    (void)state;
    struct glass_seq lo = S(0xFFFFFF00u), hi = S(0x00000010u);

    assert_false(glass_seq_in_left_open(lo, lo, hi)); /* SND.UNA itself is not acceptable */
    assert_true(glass_seq_in_left_open(S(0xFFFFFF01u), lo, hi));
    assert_true(glass_seq_in_left_open(S(0), lo, hi));
    assert_true(glass_seq_in_left_open(hi, lo, hi)); /* SND.NXT is */
    assert_false(glass_seq_in_left_open(S(0x00000011u), lo, hi));
    assert_false(glass_seq_in_left_open(S(0xFFFFFEFFu), lo, hi));
}

static void test_seq_max_min_across_wrap(void **state)
{
    (void)state;
    struct glass_seq before = S(0xFFFFFF00u), after = S(0x00000010u);

    assert_int_equal(glass_seq_max(before, after).v, 0x10u);
    assert_int_equal(glass_seq_max(after, before).v, 0x10u);
    assert_int_equal(glass_seq_min(before, after).v, 0xFFFFFF00u);
    assert_int_equal(glass_seq_min(after, before).v, 0xFFFFFF00u);
    assert_int_equal(glass_seq_max(S(3), S(3)).v, 3u);
    assert_int_equal(glass_seq_min(S(3), S(3)).v, 3u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_add_wraps),
        cmocka_unit_test(test_seq_diff_across_wrap),
        cmocka_unit_test(test_seq_compare_across_wrap),
        cmocka_unit_test(test_seq_compare_equal),
        cmocka_unit_test(test_seq_compare_without_wrap),
        cmocka_unit_test(test_seq_in_window_across_wrap),
        cmocka_unit_test(test_seq_in_window_empty),
        cmocka_unit_test(test_seq_in_left_open_across_wrap),
        cmocka_unit_test(test_seq_max_min_across_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
