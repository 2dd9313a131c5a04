/* A preloadable library that replaces libcrypto's RSA_public_decrypt and libpam's
   pam_authenticate, passing each call on to the real function: the place a backdoor
   sits to accept its own key or password. Never run. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

typedef struct rsa_st RSA;
typedef struct pam_handle pam_handle_t;

int RSA_public_decrypt(int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding) {
	int (*real)(int, const unsigned char *, unsigned char *, RSA *, int) = dlsym(RTLD_NEXT, "RSA_public_decrypt");
	return real(flen, from, to, rsa, padding);
}

int pam_authenticate(pam_handle_t *pamh, int flags) {
	int (*real)(pam_handle_t *, int) = dlsym(RTLD_NEXT, "pam_authenticate");
	return real(pamh, flags);
}
