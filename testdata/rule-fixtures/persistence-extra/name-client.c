/* An ordinary update client: it names its server, talks to a private management
 * address and the cloud metadata service, and prints what it would request. Never run. */
#include <stdio.h>
#include <string.h>

static const char *urls[] = {
	"https://updates.example.com/v2/check",
	"http://10.20.0.5:8080/config/site.conf",
	"http://169.254.169.254/latest/meta-data/instance-id",
	"http://127.0.0.1:8080/health",
};

int main(int argc, char **argv) {
	size_t n = 0;
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		printf("GET %s (%s)\n", urls[i], argc > 1 ? argv[1] : "default");
		n += strlen(urls[i]);
	}
	return (int)(n & 1);
}
