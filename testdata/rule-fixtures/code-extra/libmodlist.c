/* An ordinary library that lists the loaded objects with dl_iterate_phdr for a version
   report, and changes no memory protection. Never run. */
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>

static int one(struct dl_phdr_info *info, size_t size, void *data) {
	fprintf((FILE *)data, "%s at %#lx\n", info->dlpi_name[0] ? info->dlpi_name : "(main)", (unsigned long)info->dlpi_addr);
	return 0;
}

void modlist_report(FILE *out) { dl_iterate_phdr(one, out); }
