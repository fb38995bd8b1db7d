/* glasstcp — the verifiable stream of the simulated applications (src/util/stream.c): filling
 * and checking agree at every offset and length, the word-at-a-time and vector paths agree with
 * the byte definition, and a change of any one byte is found at exactly its index. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/stream.h"

static void test_fill_matches_bytes_and_checks(void **state)
{
    (void)state;
    static uint8_t buf[700];
    for (uint64_t off = 0; off < 80; off += 7) {
        for (size_t n = 0; n <= sizeof buf; n += 37) {
            glass_stream_fill(42, off, buf, n);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(buf[i], glass_stream_byte(42, off + i));
            assert_int_equal(glass_stream_check(42, off, buf, n), n);
            if (n >= 8) /* another stream (keys are hashes of the seed: they differ widely) */
                assert_true(glass_stream_check(UINT64_C(0x9e3779b97f4a7c15) ^ 42, off, buf, n) <
                            8);
        }
    }
}

static void test_any_changed_byte_is_found_at_its_index(void **state)
{
    (void)state;
    static uint8_t buf[300];
    for (uint64_t off = 1000; off < 1009; off++) {
        glass_stream_fill(7, off, buf, sizeof buf);
        for (size_t i = 0; i < sizeof buf; i++) {
            buf[i] ^= 0x10;
            assert_int_equal(glass_stream_check(7, off, buf, sizeof buf), i);
            buf[i] ^= 0x10;
        }
        /* Bytes from the right stream at the wrong offset are caught too. */
        assert_int_equal(glass_stream_check(7, off + 8, buf, sizeof buf), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_matches_bytes_and_checks),
        cmocka_unit_test(test_any_changed_byte_is_found_at_its_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
