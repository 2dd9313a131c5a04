/* An ordinary Windows program that breaks into an attached debugger on a fatal error,
   as crash reporters do. Never run. */
#include <windows.h>
#include <stdio.h>

int main(int argc, char **argv) {
	if (argc > 1) {
		OutputDebugStringA("fatal: configuration missing\n");
		if (IsDebuggerPresent()) DebugBreak();
		fprintf(stderr, "fatal: configuration missing\n");
		return 1;
	}
	return 0;
}
