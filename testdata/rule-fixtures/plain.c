/* An ordinary program: reads a file and prints its size. Built with and without the
   usual hardening to make the fixtures of the built-in hardening rules. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
	char buf[256];
	size_t n = 0, total = 0;
	FILE *f = fopen(argc > 1 ? argv[1] : "/etc/hostname", "r");
	if (!f)
		return 1;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		total += n;
	fclose(f);
	strncpy(buf, argv[0], sizeof buf - 1);
	buf[sizeof buf - 1] = 0;
	printf("%s: %zu bytes\n", buf, total);
	return 0;
}
