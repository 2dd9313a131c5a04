/* dll.c: a DLL with named exports, one export by ordinal only and a forwarder (dll.def). */
#include <windows.h>

int kensa_add(int a, int b) { return a + b; }
int kensa_mul(int a, int b) { return a * b; }
int kensa_hidden(int a) { return -a; }

BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID reserved)
{
	(void)h; (void)reason; (void)reserved;
	return TRUE;
}
