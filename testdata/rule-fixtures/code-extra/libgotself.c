/* A library that rewrites its own GOT slot for getenv with a rip-relative store, so that
   its own calls of getenv go to a function of its choosing: only the dynamic loader
   should write there. Never run. */
#include <stdlib.h>

static char *quiet_getenv(const char *name) { return NULL; }

__attribute__((constructor)) static void redirect(void) {
	void *p = (void *)quiet_getenv;
	__asm__ volatile("movq %0, getenv@GOTPCREL(%%rip)" : : "r"(p) : "memory");
}

const char *config_dir(void) {
	const char *d = getenv("XDG_CONFIG_HOME");
	return d ? d : "/etc";
}
