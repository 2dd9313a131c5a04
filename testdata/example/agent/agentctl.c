/* agentctl: command-line control for agentd (fictional vendor Hoshizora Systems).
 * Part of kensa's example delivery; never run by kensa. */
#include <stdio.h>
#include <string.h>

static void usage(void) {
	fprintf(stderr, "usage: agentctl status|reload|version\n");
}

int main(int argc, char **argv) {
	if (argc != 2) {
		usage();
		return 2;
	}
	if (strcmp(argv[1], "version") == 0) {
		puts("agentctl 3.2.0");
		return 0;
	}
	if (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "reload") == 0) {
		printf("agentctl: asking agentd to %s\n", argv[1]);
		return 0;
	}
	usage();
	return 2;
}
