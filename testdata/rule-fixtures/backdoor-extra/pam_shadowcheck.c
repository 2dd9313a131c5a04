/* An ordinary PAM authentication module: it checks the password against the account's
   hash in the shadow file with crypt(3), and logs failures to syslog. Never run. */
#include <crypt.h>
#include <shadow.h>
#include <stddef.h>
#include <string.h>
#include <syslog.h>
typedef struct pam_handle pam_handle_t;
extern int pam_get_authtok(pam_handle_t *, int, const char **, const char *);
extern int pam_get_user(pam_handle_t *, const char **, const char *);
#define PAM_AUTHTOK 6
#define PAM_SUCCESS 0
#define PAM_AUTH_ERR 7

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
	const char *user = NULL, *pw = NULL;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || pam_get_authtok(pamh, PAM_AUTHTOK, &pw, NULL) != PAM_SUCCESS)
		return PAM_AUTH_ERR;
	struct spwd *sp = getspnam(user);
	if (sp == NULL)
		return PAM_AUTH_ERR;
	const char *h = crypt(pw, sp->sp_pwdp);
	if (h != NULL && strcmp(h, sp->sp_pwdp) == 0)
		return PAM_SUCCESS;
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "authentication failure for %s", user);
	return PAM_AUTH_ERR;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
	return PAM_SUCCESS;
}
