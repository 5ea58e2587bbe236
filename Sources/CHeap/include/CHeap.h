#ifndef CHEAP_H
#define CHEAP_H

#include <stddef.h>

/// Hands the heap's free pages back to the system where the C library can (glibc's
/// malloc_trim); elsewhere it does nothing. Returns 1 if any memory was released.
int cheap_release_free_memory(void);

/// Bytes the C library's heap has handed out and not had back (glibc's mallinfo2); 0 where
/// the library does not say.
size_t cheap_bytes_in_use(void);

#endif
