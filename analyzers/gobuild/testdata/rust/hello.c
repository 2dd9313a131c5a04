/* The source of the C fixtures: a cargo-auditable .dep-v0 section is added to the ELF
 * (gcc) and PE (x86_64-w64-mingw32-gcc) builds with objcopy. */
#include <stdio.h>

int main(void) {
	puts("hello from a kensa fixture");
	return 0;
}
