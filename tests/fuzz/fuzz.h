/* glasstcp — libFuzzer harnesses (tests/fuzz). Each fuzz_<target>.c defines the libFuzzer entry
 * point; linked with -fsanitize=fuzzer it is a fuzzer (GLASS_FUZZ=ON, clang), linked with
 * replay.c it is a plain executable that feeds it the files named on its command line (the
 * corpus and the regression inputs, in the normal test suite). A failed check aborts. */
#ifndef GLASS_FUZZ_H
#define GLASS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                    \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fputc('\n', stderr);                                                                 \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* Reads fuzz input bytes front to back; past the end every read is 0. */
struct fuzz_in {
    const uint8_t *p;
    size_t n, i;
};

static inline uint8_t fz_u8(struct fuzz_in *in)
{
    return in->i < in->n ? in->p[in->i++] : 0;
}

static inline uint16_t fz_u16(struct fuzz_in *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)((hi << 8) | fz_u8(in));
}

static inline uint32_t fz_u32(struct fuzz_in *in)
{
    uint32_t hi = fz_u16(in);
    return (hi << 16) | fz_u16(in);
}

static inline int fz_more(const struct fuzz_in *in)
{
    return in->i < in->n;
}

/* A counting allocator: what a stack holds must go back to zero after glass_stack_free. */
struct fuzz_mem {
    long long bytes, blocks;
};

static inline void *fuzz_alloc(void *ctx, size_t n)
{
    struct fuzz_mem *m = ctx;
    void *p = malloc(n);
    if (p) {
        m->bytes += (long long)n;
        m->blocks++;
    }
    return p;
}

static inline void fuzz_free(void *ctx, void *p, size_t n)
{
    struct fuzz_mem *m = ctx;
    m->bytes -= (long long)n;
    m->blocks--;
    free(p);
}

#endif
