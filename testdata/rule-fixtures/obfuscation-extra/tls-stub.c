/* A Windows program whose one extra TLS callback lives in a code section of its own
 * (".stub") rather than in .text, as packers and protectors place their stubs. */
#include <windows.h>
#include <stdio.h>

static volatile LONG hits;
__attribute__((section(".stub"), noinline)) static void NTAPI early(PVOID h, DWORD r, PVOID p) {
	(void)h; (void)p;
	if (r == DLL_PROCESS_ATTACH) InterlockedIncrement(&hits);
}
__attribute__((section(".CRT$XLF"), used)) PIMAGE_TLS_CALLBACK tls_early = early;

int main(void) {
	printf("%ld\n", hits);
	return 0;
}
