/* An ordinary daemon that names its worker process after itself. Never run. */
#include <sys/prctl.h>
#include <unistd.h>

int main(void) {
	prctl(PR_SET_NAME, "agentd: worker", 0, 0, 0);
	for (;;) sleep(60);
}
