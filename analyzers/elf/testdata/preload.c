/* The shape of an LD_PRELOAD rootkit: a shared object that exports libc names and passes
   each call on to the real function found with dlsym(RTLD_NEXT). It hides nothing; the
   tests only look at its exports and imports. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/types.h>

struct dirent *readdir(DIR *dir) {
	struct dirent *(*real)(DIR *) = dlsym(RTLD_NEXT, "readdir");
	return real(dir);
}

FILE *fopen(const char *path, const char *mode) {
	FILE *(*real)(const char *, const char *) = dlsym(RTLD_NEXT, "fopen");
	return real(path, mode);
}

int open(const char *path, int flags, ...) {
	int (*real)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
	mode_t mode = 0;
	if (flags & O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return real(path, flags, mode);
}
