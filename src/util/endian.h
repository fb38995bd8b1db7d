/* glasstcp — byte order of the host, and little-endian 64-bit loads and stores that give the
 * same bytes on every host (the simulator's stream and trace hash; the checksum's byte swap). */
#ifndef GLASS_UTIL_ENDIAN_H
#define GLASS_UTIL_ENDIAN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline bool glass_host_le(void)
{
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static inline uint64_t glass_bswap64(uint64_t w)
{
    w = (w >> 32) | (w << 32);
    w = ((w & UINT64_C(0xffff0000ffff0000)) >> 16) | ((w & UINT64_C(0x0000ffff0000ffff)) << 16);
    return ((w & UINT64_C(0xff00ff00ff00ff00)) >> 8) | ((w & UINT64_C(0x00ff00ff00ff00ff)) << 8);
}

static inline uint64_t glass_load_le64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return glass_host_le() ? w : glass_bswap64(w);
}

static inline void glass_store_le64(uint8_t *p, uint64_t w)
{
    if (!glass_host_le())
        w = glass_bswap64(w);
    memcpy(p, &w, 8);
}

#endif
