/* glasstcp scenario tests — the 4-tuple hash (src/core/demux.c): allocated whole for max_conns
 * but used only as far as the connections need (at least GLASS_CHASH_MIN heads), doubling as
 * they come and halving as they go, every connection found by its 4-tuple throughout, and
 * glass_stack_check agreeing at every step. */
#include "core/core.h" /* the hash's heads in use */
#include "fixture.h"

#include <stdlib.h>

#define CONNS 3000u

/* Connection i goes to one of 30 server ports. */
static uint16_t server_port(unsigned i)
{
    return (uint16_t)(1000u + i % 30u);
}

/* Every open connection (fds[i] >= 0) is the one its 4-tuple finds. */
static void assert_all_found(struct glass_stack *st, const int *fds)
{
    for (unsigned i = 0; i < CONNS; i++) {
        if (fds[i] < 0)
            continue;
        struct glass_endpoint me; /* (getpeername: ENOTCONN in SYN_SENT, as in Linux) */
        assert_int_equal(glass_getsockname(st, fds[i], &me), 0);
        const struct glass_tcb *t =
            glass_demux_conn(st, me.addr, me.port, FX_SERVER_ADDR, server_port(i));
        assert_non_null(t);
        assert_int_equal(t->fd, fds[i]);
    }
}

static void test_heads_follow_connections(void **state)
{
    (void)state;
    struct glass_stack *st = fx_lone_client(2u * CONNS);
    char why[256];
    int *fds = malloc(sizeof(int) * CONNS);
    assert_non_null(fds);
    uint32_t max = st->chash_max;
    assert_true(max + 1u > 4u * CONNS); /* sized for max_conns, far more than used here */
    assert_int_equal(st->chash_mask + 1u, GLASS_CHASH_MIN);

    /* Connections to 30 server ports (SYN_SENT: hashed at connect). */
    for (unsigned i = 0; i < CONNS; i++) {
        fds[i] = glass_socket(st);
        assert_true(fds[i] >= 0);
        struct glass_endpoint to = {.addr = FX_SERVER_ADDR, .port = server_port(i)};
        assert_int_equal(glass_connect(st, fds[i], &to), -GLASS_EINPROGRESS);
        assert_int_equal(st->n_hashed, i + 1u);
        /* load at most 1, and never more heads than twice the connections (or the minimum) */
        assert_true(st->n_hashed <= st->chash_mask + 1u);
        assert_true(st->chash_mask + 1u == GLASS_CHASH_MIN ||
                    st->chash_mask + 1u < 2u * st->n_hashed);
        if (i % 97u == 0)
            assert_int_equal(glass_stack_check(st, why, sizeof why), 0);
    }
    assert_int_equal(st->chash_mask + 1u, 4096u);
    assert_int_equal(glass_stack_check(st, why, sizeof why), 0);
    assert_all_found(st, fds);

    /* Close them in a scattered order: the heads halve once fewer than an eighth are used. */
    unsigned left = CONNS;
    for (unsigned k = 0; k < CONNS; k++) {
        unsigned i = (k * 1237u) % CONNS; /* 1237 is prime to 3000: each once */
        assert_true(fds[i] >= 0);
        assert_int_equal(glass_close(st, fds[i]), 0);
        fds[i] = -1;
        left--;
        assert_int_equal(st->n_hashed, left);
        assert_true(st->chash_mask + 1u == GLASS_CHASH_MIN ||
                    st->n_hashed >= (st->chash_mask + 1u) / 8u);
        if (k % 89u == 0) {
            assert_int_equal(glass_stack_check(st, why, sizeof why), 0);
            assert_all_found(st, fds);
        }
    }
    assert_int_equal(st->chash_mask + 1u, GLASS_CHASH_MIN);
    assert_int_equal(glass_stack_check(st, why, sizeof why), 0);
    free(fds);
    glass_stack_free(st);
}

/* Connections that come and go around a resize threshold do not resize on every one: the
 * heads stay put while the count moves between an eighth and all of them. */
static void test_resize_hysteresis(void **state)
{
    (void)state;
    struct glass_stack *st = fx_lone_client(2u * CONNS);
    char why[256];
    int fds[600];
    unsigned n = 0;
    for (; n < 513u; n++) { /* 513 > 512 heads: 1024 */
        fds[n] = glass_socket(st);
        struct glass_endpoint to = {.addr = FX_SERVER_ADDR, .port = (uint16_t)(2000u + n)};
        assert_int_equal(glass_connect(st, fds[n], &to), -GLASS_EINPROGRESS);
    }
    assert_int_equal(st->chash_mask + 1u, 1024u);
    for (int round = 0; round < 50; round++) {
        n--;
        assert_int_equal(glass_close(st, fds[n]), 0);
        assert_int_equal(st->chash_mask + 1u, 1024u);
        fds[n] = glass_socket(st);
        struct glass_endpoint to = {.addr = FX_SERVER_ADDR, .port = (uint16_t)(3000u + round)};
        assert_int_equal(glass_connect(st, fds[n], &to), -GLASS_EINPROGRESS);
        n++;
        assert_int_equal(st->chash_mask + 1u, 1024u);
    }
    assert_int_equal(glass_stack_check(st, why, sizeof why), 0);
    while (n > 127u) { /* down to 127 < 1024 / 8: 512 */
        n--;
        assert_int_equal(glass_close(st, fds[n]), 0);
    }
    assert_int_equal(st->chash_mask + 1u, 512u);
    assert_int_equal(glass_stack_check(st, why, sizeof why), 0);
    glass_stack_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heads_follow_connections),
        cmocka_unit_test(test_resize_hysteresis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
