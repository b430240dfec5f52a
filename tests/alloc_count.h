/* Counting heap allocations in a test binary (include once, in the test's one source file).
 *
 * `alloc_counting` on: every malloc, calloc, realloc, posix_memalign and aligned_alloc, from any library in the
 * process (FFTW's and libc's own included), increments `alloc_count`. Ordinary builds interpose the functions over
 * glibc's; sanitizer builds (which own the allocator) use the sanitizer's allocation hook instead. */
#ifndef SOUNDSTAGE_TESTS_ALLOC_COUNT_H
#define SOUNDSTAGE_TESTS_ALLOC_COUNT_H

#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SS_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SS_TEST_ASAN 1
#endif

static volatile int alloc_counting, alloc_count;

#ifdef SS_TEST_ASAN
/* the sanitizer runtime's (sanitizer/allocator_interface.h, which gcc does not install everywhere) */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
		void (*free_hook)(const volatile void *));
static void count_malloc_hook(const volatile void *p, size_t n)
{
	if (alloc_counting)
		alloc_count++;
}
static void count_free_hook(const volatile void *p)
{
}
__attribute__((constructor)) static void alloc_count_install(void)
{
	__sanitizer_install_malloc_and_free_hooks(count_malloc_hook, count_free_hook);
}
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
void *malloc(size_t n);
void *calloc(size_t a, size_t b);
void *realloc(void *p, size_t n);
int posix_memalign(void **p, size_t al, size_t n);
void *aligned_alloc(size_t al, size_t n);
void *malloc(size_t n)
{
	if (alloc_counting)
		alloc_count++;
	return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
	if (alloc_counting)
		alloc_count++;
	return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
	if (alloc_counting)
		alloc_count++;
	return __libc_realloc(p, n);
}
int posix_memalign(void **p, size_t al, size_t n)
{
	if (alloc_counting)
		alloc_count++;
	*p = __libc_memalign(al, n);
	return *p ? 0 : 12;
}
void *aligned_alloc(size_t al, size_t n)
{
	if (alloc_counting)
		alloc_count++;
	return __libc_memalign(al, n);
}
#endif

#include <stdlib.h>
/* True if the counter sees an allocation (a check that the counting itself works in this build). */
static inline int alloc_count_works(void)
{
	void *(*volatile m)(size_t) = malloc;
	const int before = alloc_count;
	alloc_counting = 1;
	void *p = m(24);
	alloc_counting = 0;
	free(p);
	return alloc_count == before + 1;
}

#endif
