/* An IFUNC: the dynamic loader calls resolve_add to pick the implementation of add. */
#include <stdio.h>

static int add_generic(int a, int b) { return a + b; }

static int (*resolve_add(void))(int, int) { return add_generic; }

int add(int a, int b) __attribute__((ifunc("resolve_add")));

int main(void) {
	printf("%d\n", add(2, 3));
	return 0;
}
