/* A small program for the elf analyzer tests: a stack buffer (stack protector), strcpy
   and printf (FORTIFY_SOURCE). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
	char buf[64];
	strcpy(buf, argc > 1 ? argv[1] : "kensa");
	printf("%s %zu\n", buf, strlen(buf));
	return 0;
}
