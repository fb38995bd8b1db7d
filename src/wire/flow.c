/* glasstcp — the steering hash of a TCP/IPv4 flow (include/glass/wire.h; docs/sharding.md):
 * what a NIC's RSS or the Linux tun driver's multi-queue steering does in hardware or in the
 * kernel, in software, for an application that runs one stack per thread and hands each
 * datagram to the stack that owns its flow. */
#include <glass/wire.h>

#include "wire/wire_priv.h"

#include <glass/err.h>

/* The finalizer of SplitMix64: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

uint32_t glass_flow_hash4(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
                          uint64_t key)
{
    /* Symmetric, as the kernel's __skb_get_hash_symmetric(): the endpoints are put in order
     * first, so that both directions of a connection give the same words. */
    if (saddr > daddr || (saddr == daddr && sport > dport)) {
        uint32_t a = saddr;
        saddr = daddr;
        daddr = a;
        uint16_t p = sport;
        sport = dport;
        dport = p;
    }
    uint64_t addrs = (uint64_t)saddr << 32 | daddr;
    uint64_t ports = (uint64_t)sport << 16 | dport;
    uint64_t h = mix64(addrs ^ key);
    h = mix64(h ^ ports ^ (key >> 17 | key << 47));
    return (uint32_t)(h >> 32);
}

int glass_flow_hash(const uint8_t *pkt, size_t len, uint64_t key, uint32_t *hash)
{
    size_t ihl = glass_ipv4_tcp_off(pkt, len);
    if (ihl == 0)
        return -GLASS_EINVAL;
    /* RFC 791 §3.1: a fragment other than the first has no TCP header; the first is not
     * taken either, so that every piece of a datagram goes the same way (by its owner's
     * reassembly, never split between two stacks). */
    if ((glass_get16(pkt + 6) & 0x3fffu) != 0)
        return -GLASS_EINVAL;
    const uint8_t *th = pkt + ihl;
    *hash = glass_flow_hash4(glass_get32(pkt + 12), glass_get32(pkt + 16), glass_get16(th),
                             glass_get16(th + 2), key);
    return 0;
}

unsigned glass_flow_pick(uint32_t hash, unsigned n)
{
    /* The tun driver's reciprocal scale: a multiply and a shift rather than a division. */
    return (unsigned)(((uint64_t)hash * n) >> 32);
}
