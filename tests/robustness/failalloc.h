/* glasstcp — an allocator for the allocation-failure tests (tests/robustness): it counts what
 * is outstanding, like the fixture's, and once armed fails its fail_at-th call (1-based). */
#ifndef GLASS_TEST_FAILALLOC_H
#define GLASS_TEST_FAILALLOC_H

#include <stdbool.h>
#include <stdlib.h>

#include <glass/config.h>

struct failing {
    long long bytes, blocks; /* outstanding */
    long calls;              /* allocations since arming */
    long fail_at;            /* the call to fail; 0: none */
    long failed;             /* calls failed */
    bool armed;
};

static inline void *failing_alloc(void *ctx, size_t n)
{
    struct failing *f = ctx;
    if (f->armed && ++f->calls == f->fail_at) {
        f->failed++;
        return NULL;
    }
    void *p = malloc(n);
    if (p) {
        f->bytes += (long long)n;
        f->blocks++;
    }
    return p;
}

static inline void failing_free(void *ctx, void *p, size_t n)
{
    struct failing *f = ctx;
    f->bytes -= (long long)n;
    f->blocks--;
    free(p);
}

static inline struct glass_allocator failing_allocator(struct failing *f)
{
    return (struct glass_allocator){failing_alloc, failing_free, f};
}

#endif
