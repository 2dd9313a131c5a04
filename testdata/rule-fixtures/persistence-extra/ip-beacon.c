/* Stand-in for an implant with a hard-coded server address: it formats a check-in
 * request to an http URL whose host is a public IPv4 address. Never run. */
#include <stdio.h>
#include <string.h>

static const char server[] = "http://91.215.85.17:8080/updates/check";

int main(int argc, char **argv) {
	char req[512];
	snprintf(req, sizeof req, "GET %s?id=%s HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
		 server, argc > 1 ? argv[1] : "0");
	fputs(req, stdout);
	return (int)strlen(req) & 1;
}
