// The system zlib (Debian: zlib1g-dev), for change-set compression and CRC-32.
#include <zlib.h>
