/* glasstcp — catalogue case 117: allocation failure at every site. A stack whose allocator
 * fails its Nth allocation (N = 1, 2, ...) drops or refuses cleanly, keeps every invariant,
 * leaks nothing, and the connection recovers through retransmission. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include <glass/glass.h>

struct failing {
    long long live_bytes;
    long allocs;    /* allocations made after arming */
    long fail_at;   /* fail this one (1-based); 0 = never */
    bool armed;
    long failed;
};

static void *f_alloc(void *ctx, size_t n)
{
    struct failing *f = ctx;
    if (f->armed && ++f->allocs == f->fail_at) {
        f->failed++;
        return NULL;
    }
    void *p = malloc(n);
    if (p != NULL)
        f->live_bytes += (long long)n;
    return p;
}

static void f_free(void *ctx, void *p, size_t n)
{
    struct failing *f = ctx;
    f->live_bytes -= (long long)n;
    free(p);
}

/* socket() may refuse with -ENOMEM when the failing allocation is its own: the application
 * tries again, as a real one would. */
static int sock(struct glass_stack *st)
{
    int fd = glass_socket(st);
    return fd == -GLASS_ENOMEM ? glass_socket(st) : fd;
}

static uint8_t pat(size_t i)
{
    return (uint8_t)(i * 7u + (i >> 8));
}

/* One run: connect, send 200 kB both ways... one way, close, wait for CLOSED. Returns true if
 * every byte arrived and both stacks ended with no connection but the listener. */
static bool run(long fail_at, int which, char *why, size_t cap, long *failed)
{
    struct failing f[2] = {{0}, {0}};
    struct glass_config cfg[2];
    struct glass_stack *st[2];
    for (int i = 0; i < 2; i++) {
        glass_config_default(&cfg[i]);
        cfg[i].seed = 100u + (uint64_t)i;
        cfg[i].allocator = (struct glass_allocator){f_alloc, f_free, &f[i]};
        st[i] = glass_stack_new(&cfg[i]);
        assert_non_null(st[i]);
    }
    struct glass_simnet_config nc;
    glass_simnet_config_default(&nc);
    struct glass_simnet *net = glass_simnet_new(&nc);
    glass_simnet_attach(net, st[0], GLASS_IP4(192, 0, 2, 1));
    glass_simnet_attach(net, st[1], GLASS_IP4(192, 0, 2, 2));
    f[which].fail_at = fail_at;
    f[which].armed = true;

    struct glass_endpoint ep = {GLASS_IP4(192, 0, 2, 2), 80};
    int l = sock(st[1]);
    bool ok = l >= 0 && glass_bind(st[1], l, &ep) == 0 && glass_listen(st[1], l, 8) == 0;
    if (!ok)
        snprintf(why, cap, "listener setup failed (%d)", l);
    int c = ok ? sock(st[0]) : -1;
    long r = c >= 0 ? glass_connect(st[0], c, &ep) : -1;
    ok = ok && c >= 0 && (r == -GLASS_EINPROGRESS || r == -GLASS_ENOMEM);
    if (r == -GLASS_ENOMEM) /* refused cleanly: try again, as an application would */
        ok = glass_connect(st[0], c, &ep) == -GLASS_EINPROGRESS;
    enum { N = 200000 };
    static uint8_t buf[16384];
    size_t sent = 0, got = 0;
    int s = -1;
    bool closed_c = false, closed_s = false;
    for (int it = 0; ok && it < 200000 && !(closed_c && closed_s); it++) {
        glass_simnet_run_for(net, GLASS_MSEC(5));
        for (int i = 0; i < 2; i++) {
            if (glass_stack_check(st[i], why, cap) != 0) {
                ok = false;
                break;
            }
        }
        if (s < 0) {
            s = glass_accept(st[1], l, NULL);
            if (s < 0 && s != -GLASS_EAGAIN && s != -GLASS_ENOMEM)
                s = -1;
        }
        if (sent < N) {
            size_t n = N - sent < sizeof buf ? N - sent : sizeof buf;
            for (size_t i = 0; i < n; i++)
                buf[i] = pat(sent + i);
            long w = glass_send(st[0], c, buf, n, 0);
            if (w > 0)
                sent += (size_t)w;
        } else if (!closed_c) {
            glass_close(st[0], c);
            closed_c = true;
        }
        if (s >= 0 && !closed_s) {
            long n;
            while ((n = glass_recv(st[1], s, buf, sizeof buf, 0)) > 0) {
                for (long i = 0; i < n; i++)
                    if (buf[i] != pat(got + (size_t)i)) {
                        snprintf(why, cap, "corrupt byte at %zu", got + (size_t)i);
                        ok = false;
                    }
                got += (size_t)n;
            }
            if (n == 0) {
                glass_close(st[1], s);
                closed_s = true;
            }
        }
    }
    glass_simnet_run_for(net, GLASS_SEC(130));
    if (ok && got != N) {
        snprintf(why, cap, "%zu of %d bytes arrived", got, N);
        ok = false;
    }
    if (ok && (glass_stack_conns(st[0], NULL, 0) != 0 || glass_stack_conns(st[1], NULL, 0) != 1)) {
        snprintf(why, cap, "connections left: %zu/%zu", glass_stack_conns(st[0], NULL, 0),
                 glass_stack_conns(st[1], NULL, 0));
        ok = false;
    }
    glass_close(st[1], l);
    *failed = f[which].failed;
    glass_simnet_free(net);
    for (int i = 0; i < 2; i++)
        glass_stack_free(st[i]);
    if (ok && (f[0].live_bytes != 0 || f[1].live_bytes != 0)) {
        snprintf(why, cap, "leaked %lld/%lld bytes", f[0].live_bytes, f[1].live_bytes);
        ok = false;
    }
    return ok;
}

static void test_cat117_every_allocation_site_fails_once(void **state)
{
    (void)state;
    char why[256];
    /* every allocation the scenario makes after the stacks exist, on either side (a handful:
     * connection blocks, histories, rings, RACK records) */
    for (int side = 0; side < 2; side++) {
        long sites = 0;
        for (long n = 1; n <= 12; n++) {
            why[0] = '\0';
            long failed = 0;
            bool ok = run(n, side, why, sizeof why, &failed);
            if (!ok)
                print_error("side %d, allocation %ld failing: %s\n", side, n, why);
            assert_true(ok);
            sites += failed;
        }
        /* the scenario really went through several allocation sites on this side */
        assert_true(sites >= 3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cat117_every_allocation_site_fails_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
