/* An ordinary small inetd-style service: it accepts connections and runs a fixed helper
   program with the connection as its standard input and output, the way tcpd and
   ucspi-tcp do. No shell. Never run. */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

int main(void) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7070)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bind(s, (struct sockaddr *)&a, sizeof a);
	listen(s, 16);
	openlog("statusd", LOG_PID, LOG_DAEMON);
	for (;;) {
		int c = accept(s, 0, 0);
		pid_t p = fork();
		if (p == 0) {
			dup2(c, 0); dup2(c, 1);
			char *argv[] = {"/usr/lib/statusd/report-status", "--plain", 0};
			execv(argv[0], argv);
			_exit(127);
		}
		close(c);
		waitpid(p, 0, 0);
		syslog(LOG_INFO, "served one status request");
	}
}
