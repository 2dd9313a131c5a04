/* The import set of a polling keylogger: key states and the title of the window that
   has the focus. Never run; only its imports matter. */
#include <windows.h>
#include <stdio.h>

int main(void) {
	char title[256];
	for (int k = 8; k < 256; k++)
		if (GetAsyncKeyState(k) & 1)
			printf("%d\n", k);
	GetWindowTextA(GetForegroundWindow(), title, sizeof title);
	puts(title);
	return 0;
}
