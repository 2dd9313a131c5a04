/* An ordinary Windows setup step that removes its temporary files with cmd.exe.
   Never run. */
#include <windows.h>

int main(void) {
	STARTUPINFOA si = {sizeof si};
	PROCESS_INFORMATION pi;
	char cmd[] = "cmd.exe /C del /q \"%TEMP%\\setup-*.tmp\"";
	CreateProcessA(NULL, cmd, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi);
	return 0;
}
