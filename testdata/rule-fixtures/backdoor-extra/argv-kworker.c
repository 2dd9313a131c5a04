/* Process-name masquerading by argv[0] alone: the program overwrites its arguments with a
   kernel worker thread's name, which ps then shows. Never run. */
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
	char *end = argv[argc - 1] + strlen(argv[argc - 1]);
	memset(argv[0], 0, (size_t)(end - argv[0]));
	strcpy(argv[0], "[kworker/u8:2-events]");
	for (;;) sleep(60);
}
