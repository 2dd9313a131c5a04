/* An ordinary plug-in DLL: its own exports, and one forwarder to a sibling library of
 * the same product, as vendors split code between DLLs. */
#include <windows.h>

__declspec(dllexport) int plugin_version(void) { return 3; }
__declspec(dllexport) int plugin_init(const char *cfg) { return cfg != NULL; }
BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID p) { (void)h; (void)reason; (void)p; return TRUE; }
