/* An ordinary helper that shows the end of the user's shell history, reading HISTFILE as
   bash does and running the pager through /bin/sh. Never run. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
	const char *h = getenv("HISTFILE");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "tail -n 50 '%s' | less", h ? h : "/root/.bash_history");
	execl("/bin/sh", "sh", "-c", cmd, (char *)0);
	return 127;
}
