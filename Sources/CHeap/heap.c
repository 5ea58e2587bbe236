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
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}
#else
int cheap_release_free_memory(void) {
    return 0;
}

size_t cheap_bytes_in_use(void) {
    return 0;
}
#endif
