/* A Windows program registering three TLS callbacks of its own besides those of the
 * mingw-w64 runtime: code that runs before main, as loaders use to act before a
 * debugger stops at the entry point. */
#include <windows.h>
#include <stdio.h>

static volatile LONG hits;
static void NTAPI early_a(PVOID h, DWORD r, PVOID p) { (void)h; (void)p; if (r == DLL_PROCESS_ATTACH) InterlockedIncrement(&hits); }
static void NTAPI early_b(PVOID h, DWORD r, PVOID p) { (void)h; (void)p; if (r == DLL_PROCESS_ATTACH) InterlockedIncrement(&hits); }
static void NTAPI early_c(PVOID h, DWORD r, PVOID p) { (void)h; (void)p; if (r == DLL_PROCESS_ATTACH) InterlockedIncrement(&hits); }

__attribute__((section(".CRT$XLF"), used)) PIMAGE_TLS_CALLBACK tls_a = early_a;
__attribute__((section(".CRT$XLG"), used)) PIMAGE_TLS_CALLBACK tls_b = early_b;
__attribute__((section(".CRT$XLH"), used)) PIMAGE_TLS_CALLBACK tls_c = early_c;

int main(void) {
	printf("%ld\n", hits);
	return 0;
}
