/* glasstcp — sorted, disjoint lists of sequence ranges, bounded in length: the receiver's
 * out-of-order queue (tcp_reass.c) and the sender's SACK scoreboard (tcp_sack.c). */
#include "core/core.h"

int glass_range_insert(struct glass_range *r, uint8_t *n, uint8_t cap, struct glass_seq s,
                       struct glass_seq e)
{
    uint8_t i = 0;
    while (i < *n && glass_seq_lt(r[i].end, s))
        i++;
    /* i: first range that ends at or after s. Merge every range overlapping/touching [s,e). */
    uint8_t j = i;
    while (j < *n && glass_seq_le(r[j].start, e)) {
        s = glass_seq_min(s, r[j].start);
        e = glass_seq_max(e, r[j].end);
        j++;
    }
    if (j == i) { /* no overlap: a new range at i */
        if (*n >= cap)
            return -1;
        for (uint8_t k = *n; k > i; k--)
            r[k] = r[k - 1];
        (*n)++;
    } else if (j > i + 1u) { /* ranges i..j-1 collapse into i */
        uint8_t gone = (uint8_t)(j - i - 1u);
        for (uint8_t k = (uint8_t)(i + 1u); k + gone < *n; k++)
            r[k] = r[k + gone];
        *n = (uint8_t)(*n - gone);
    }
    r[i].start = s;
    r[i].end = e;
    return i;
}

uint32_t glass_range_bytes(const struct glass_range *r, uint8_t n)
{
    uint32_t total = 0;
    for (uint8_t k = 0; k < n; k++)
        total += glass_seq_sub(r[k].end, r[k].start);
    return total;
}

int glass_range_add(struct glass_stack *st, struct glass_range **r, uint8_t *n, uint8_t cap,
                    struct glass_seq s, struct glass_seq e)
{
    if (*r == NULL) {
        *r = glass_alloc(st, sizeof(struct glass_range) * cap);
        if (*r == NULL)
            return -2;
        *n = 0;
    }
    int at = glass_range_insert(*r, n, cap, s, e);
    glass_range_release(st, r, *n, cap);
    return at;
}

void glass_range_release(struct glass_stack *st, struct glass_range **r, uint8_t n, uint8_t cap)
{
    if (n != 0 || *r == NULL)
        return;
    glass_free(st, *r, sizeof(struct glass_range) * cap);
    *r = NULL;
}
