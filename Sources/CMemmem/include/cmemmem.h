#ifndef CMEMMEM_H
#define CMEMMEM_H
#include <stddef.h>

/// glibc's memmem (a GNU extension that Swift's Glibc module does not expose): the first
/// occurrence of needle in haystack, or NULL.
const void *cmemmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

#endif
