/* exe.c: a console program with ordinary and by-ordinal imports, a TLS
   callback and a version resource (exe.rc). */
#include <windows.h>
#include <stdio.h>

__declspec(dllimport) int kensa_named(int);
__declspec(dllimport) int kensa_by_ordinal(int);


static volatile int tls_ran;

static void NTAPI tls_callback(PVOID h, DWORD reason, PVOID reserved)
{
	(void)h; (void)reserved;
	if (reason == DLL_PROCESS_ATTACH)
		tls_ran = 1;
}

/* Place the callback in the TLS callback array (.CRT$XLB). */
__attribute__((section(".CRT$XLB"), used)) PIMAGE_TLS_CALLBACK kensa_tls_cb = tls_callback;

int main(int argc, char **argv)
{
	(void)argv;
	char path[MAX_PATH];
	GetModuleFileNameA(NULL, path, sizeof path);
	if (argc > 5) {
		MessageBoxA(NULL, path, "kensa", MB_OK);
		printf("%d %d\n", kensa_named(argc), kensa_by_ordinal(argc));
	}
	Sleep(0);
	return tls_ran;
}
