/* Code placed in a section marked readable, writable and executable, as packers and
   shellcode loaders do. */
#include <stdio.h>

__attribute__((section(".wxtext,\"wx\"#"))) int twice(int x) { return 2 * x; }

int main(void) {
	printf("%d\n", twice(21));
	return 0;
}
