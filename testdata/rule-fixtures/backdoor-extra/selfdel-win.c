/* Windows self-deletion: a hidden cmd.exe waits with ping, then deletes the program
   after it has exited. Never run. */
#include <windows.h>
#include <stdio.h>

int main(void) {
	char self[MAX_PATH], cmd[MAX_PATH + 128];
	STARTUPINFOA si = {sizeof si};
	PROCESS_INFORMATION pi;
	GetModuleFileNameA(NULL, self, MAX_PATH);
	snprintf(cmd, sizeof cmd, "cmd.exe /C ping 127.0.0.1 -n 3 > Nul & Del /f /q \"%s\"", self);
	CreateProcessA(NULL, cmd, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi);
	return 0;
}
