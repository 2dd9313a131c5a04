/* A constructor: runs before main, the way injected code often starts. */
#include <stdio.h>

static void early(void) __attribute__((constructor));

static void early(void) { puts("before main"); }

int main(void) {
	puts("main");
	return 0;
}
