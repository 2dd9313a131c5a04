/* An ordinary password checker: it reads its options and the shadow entry and compares
   with literals only option words, hash method names and service names. Never run. */
#include <crypt.h>
#include <shadow.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
	int nullok = 0, verbose = 0;
	const char *method = "yescrypt", *user = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--verbose") == 0) verbose = 1;
		else if (strcmp(argv[i], "nullok") == 0) nullok = 1;
		else if (strcmp(argv[i], "try_first_pass") == 0) continue;
		else if (strncmp(argv[i], "method=", 7) == 0) method = argv[i] + 7;
		else if (strcasecmp(argv[i], "SHA512") == 0) method = "sha512";
		else if (strcmp(argv[i], "yes") == 0) continue;
		else if (strcmp(argv[i], "system-auth") == 0) continue;
		else user = argv[i];
	}
	if (user == NULL) return 2;
	struct spwd *sp = getspnam(user);
	if (sp == NULL) return 1;
	if (sp->sp_pwdp[0] == 0) return nullok ? 0 : 1;
	char pw[256];
	if (fgets(pw, sizeof pw, stdin) == NULL) return 1;
	pw[strcspn(pw, "\n")] = 0;
	const char *h = crypt(pw, sp->sp_pwdp);
	if (verbose) fprintf(stderr, "checked %s with %s\n", user, method);
	return h != NULL && strcmp(h, sp->sp_pwdp) == 0 ? 0 : 1;
}
