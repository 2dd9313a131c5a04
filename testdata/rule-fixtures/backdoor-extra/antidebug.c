/* Anti-debugging: refuse to run under a tracer (PTRACE_TRACEME fails when one is
   attached), make the process undumpable, and look at TracerPid. Never run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>

int main(void) {
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) == -1)
		exit(0);
	prctl(PR_SET_DUMPABLE, 0);
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "TracerPid:", 10) == 0 && atoi(line + 10) != 0)
			exit(0);
	puts("ready");
	return 0;
}
