#include <zlib.h>

// deflateInit2 and inflateInit2 are macros that pass the library version and the stream size;
// Swift cannot call function-like macros, so these wrappers do.
static inline int czlib_deflate_init_raw(z_streamp strm, int level) {
    return deflateInit2(strm, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

static inline int czlib_inflate_init_raw(z_streamp strm) {
    return inflateInit2(strm, -15);
}
