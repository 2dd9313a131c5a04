/* agentctl: command-line control for agentd (fictional vendor Hoshizora Systems).
 * Part of kensa's example delivery; never run by kensa. */
#include <stdio.h>
#include <string.h>

#ifndef AGENT_VERSION
#define AGENT_VERSION "3.2.0"
#endif
#ifdef CASEMGR_3_3
#define COMMANDS "status|reload|restart|version"
#else
#define COMMANDS "status|reload|version"
#endif

static void usage(void) {
	fprintf(stderr, "usage: agentctl " COMMANDS "\n");
}

int main(int argc, char **argv) {
	if (argc != 2) {
		usage();
		return 2;
	}
	if (strcmp(argv[1], "version") == 0) {
		puts("agentctl " AGENT_VERSION);
		return 0;
	}
	int known = strcmp(argv[1], "status") == 0 || strcmp(argv[1], "reload") == 0;
#ifdef CASEMGR_3_3
	known = known || strcmp(argv[1], "restart") == 0;
#endif
	if (known) {
		printf("agentctl: asking agentd to %s\n", argv[1]);
		return 0;
	}
	usage();
	return 2;
}
