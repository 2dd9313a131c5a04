/* Code placed in a section marked writable and executable: the linker maps it in a
   writable and executable segment, as packers and self-modifying code do. */
#include <stdio.h>

__attribute__((section(".wxtext,\"awx\",@progbits#")))
int twice(int x) { return 2 * x; }

int main(void) {
	printf("%d\n", twice(21));
	return 0;
}
