/* Process-name masquerading: the program renames itself after a kernel worker thread,
   both its command name (prctl) and its argv[0] (what ps shows in brackets). Never run. */
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
	size_t n = strlen(argv[0]);
	memset(argv[0], 0, n);
	strncpy(argv[0], "[kworker/0:1H]", n);
	prctl(PR_SET_NAME, "kworker/0:1H", 0, 0, 0);
	for (;;) sleep(60);
}
