/* agentd: the case-management agent of the fictional vendor Hoshizora Systems.
 * It reads its configuration and reports the host's status to the update service named
 * in the vendor's declaration. Part of kensa's example delivery; never run by kensa. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATUS_ENDPOINT "https://updates.hoshizora.example/api/v1/status"
#define CONFIG_PATH "/etc/casemgr/agent.conf"

static int read_config(const char *path, char *buf, size_t len) {
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

int main(int argc, char **argv) {
	char config[4096];
	char host[256];
	if (read_config(CONFIG_PATH, config, sizeof config) != 0) {
		fprintf(stderr, "agentd: cannot read %s\n", CONFIG_PATH);
		return 1;
	}
	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "unknown");
	printf("agentd 3.2.0 on %s: reporting to %s\n", host, STATUS_ENDPOINT);
	return 0;
}
