/* The import set of classic process injection: open another process, allocate memory
   in it, write code there and start a thread on it. Never run; only its imports matter. */
#include <windows.h>

int main(int argc, char **argv) {
	if (argc < 3)
		return 1;
	HANDLE p = OpenProcess(PROCESS_ALL_ACCESS, FALSE, (DWORD)atoi(argv[1]));
	void *mem = VirtualAllocEx(p, NULL, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_EXECUTE_READWRITE);
	WriteProcessMemory(p, mem, argv[2], 16, NULL);
	CreateRemoteThread(p, NULL, 0, (LPTHREAD_START_ROUTINE)mem, NULL, 0, NULL);
	return 0;
}
