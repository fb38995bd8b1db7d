/* glasstcp — the output edge: glass_stack_output builds a connection's segment straight into
 * the caller's buffer; a buffer too small for it gets -EMSGSIZE and the segment waits, intact,
 * for a bigger one. Two stacks joined by hand, no simulator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <glass/glass.h>

#define A GLASS_IP4(192, 0, 2, 1)
#define B GLASS_IP4(192, 0, 2, 2)
#define MTU 9040u

static struct glass_stack *new_stack(uint32_t addr, uint64_t seed)
{
    struct glass_config cfg;
    glass_config_default(&cfg);
    cfg.mss = (uint16_t)(MTU - 40u);
    cfg.seed = seed;
    struct glass_stack *st = glass_stack_new(&cfg);
    assert_non_null(st);
    assert_int_equal(glass_stack_add_iface(st, addr, 24, MTU), 0);
    return st;
}

/* Move every packet from `from` to `to` until neither has output; returns how many moved. */
static int pump(struct glass_stack *s[2])
{
    static uint8_t buf[65536];
    int moved = 0;
    for (bool any = true; any;) {
        any = false;
        for (int i = 0; i < 2; i++) {
            long n;
            while ((n = glass_stack_output(s[i], 1, buf, sizeof buf)) > 0) {
                assert_int_equal(glass_stack_input(s[1 - i], 1, buf, (size_t)n), 0);
                any = true;
                moved++;
            }
        }
    }
    return moved;
}

static void test_output_emsgsize_keeps_the_segment(void **state)
{
    (void)state;
    struct glass_stack *s[2] = {new_stack(A, 1), new_stack(B, 2)};
    int lfd = glass_socket(s[1]);
    assert_int_equal(glass_bind(s[1], lfd, &(struct glass_endpoint){0, 80}), 0);
    assert_int_equal(glass_listen(s[1], lfd, 1), 0);
    int cfd = glass_socket(s[0]);
    assert_int_equal(glass_connect(s[0], cfd, &(struct glass_endpoint){B, 80}),
                     -GLASS_EINPROGRESS);
    assert_true(pump(s) >= 3);
    int sfd = glass_accept(s[1], lfd, NULL);
    assert_true(sfd >= 0);

    static uint8_t data[9000], small[2048], big[MTU], got[9000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31u + 7u);
    assert_int_equal(glass_send(s[0], cfd, data, sizeof data, 0), (long)sizeof data);
    assert_true(glass_stack_has_output(s[0]));
    /* Twice too small: refused, and nothing is lost or counted as sent. */
    uint64_t out0 = glass_stack_mib(s[0], GLASS_MIB_TcpOutSegs);
    assert_int_equal(glass_stack_output(s[0], 1, small, sizeof small), -GLASS_EMSGSIZE);
    assert_int_equal(glass_stack_output(s[0], 1, small, sizeof small), -GLASS_EMSGSIZE);
    assert_int_equal(glass_stack_mib(s[0], GLASS_MIB_TcpOutSegs), out0);
    assert_true(glass_stack_has_output(s[0]));
    /* Big enough: the whole 9000-byte segment, built in place. */
    long n = glass_stack_output(s[0], 1, big, sizeof big);
    assert_int_equal(n, (long)MTU); /* 20 IP + 32 TCP (timestamps) + 8988 payload */
    assert_int_equal(glass_stack_mib(s[0], GLASS_MIB_TcpOutSegs), out0 + 1);
    assert_int_equal(glass_stack_input(s[1], 1, big, (size_t)n), 0);
    pump(s);
    assert_int_equal(glass_recv(s[1], sfd, got, sizeof got, 0), (long)sizeof got);
    assert_memory_equal(got, data, sizeof data);
    glass_stack_free(s[0]);
    glass_stack_free(s[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_emsgsize_keeps_the_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
