#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this processor has the x86 SHA extensions (and SSSE3 and SSE4.1, which the
/// compression below also uses); 0 otherwise, and on every other architecture.
int csha256_hardware_available(void);

/// Compresses `count` whole 64-byte blocks at `data` into the eight state words `state`
/// (a, b, ..., h in FIPS 180-4 order) with the SHA instructions. Call only when
/// `csha256_hardware_available()` returned 1.
void csha256_hardware_blocks(uint32_t *_Nonnull state, const uint8_t *_Nonnull data, size_t count);

#endif
