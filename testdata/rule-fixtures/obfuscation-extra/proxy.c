/* A DLL standing in for a side-loading proxy: it is named version.dll, forwards the
 * real library's exports to the copy in System32 (proxy.def) and runs its own code when
 * loaded. */
#include <windows.h>

BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID p) {
	(void)h; (void)p;
	if (reason == DLL_PROCESS_ATTACH)
		OutputDebugStringA("loaded");
	return TRUE;
}
