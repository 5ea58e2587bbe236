#include "CHeap.h"

#if defined(__linux__)
#include <malloc.h>
#endif

// __GLIBC__ comes from the C library's own headers, so it is tested after them.
#if defined(__GLIBC__)

int cheap_release_free_memory(void) {
    return malloc_trim(0);
}

size_t cheap_bytes_in_use(void) {
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;  // mallinfo2 came with glibc 2.33; the older mallinfo's int fields overflow at 2 GB
#endif
}
#else
int cheap_release_free_memory(void) {
    return 0;
}

size_t cheap_bytes_in_use(void) {
    return 0;
}
#endif
