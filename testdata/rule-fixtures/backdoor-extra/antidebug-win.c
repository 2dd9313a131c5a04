/* Windows anti-debugging: the three usual checks, the last through ntdll found at run
   time. Never run. */
#include <windows.h>

typedef LONG(WINAPI *nqip_t)(HANDLE, ULONG, PVOID, ULONG, PULONG);

int main(void) {
	BOOL remote = FALSE;
	DWORD_PTR port = 0;
	if (IsDebuggerPresent()) ExitProcess(0);
	CheckRemoteDebuggerPresent(GetCurrentProcess(), &remote);
	if (remote) ExitProcess(0);
	nqip_t q = (nqip_t)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQueryInformationProcess");
	if (q && q(GetCurrentProcess(), 7, &port, sizeof port, NULL) == 0 && port != 0) ExitProcess(0);
	return 0;
}
