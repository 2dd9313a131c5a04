/* An ordinary library that uses libcrypto: it imports RSA_public_decrypt and exports
   its own API. Never run. */
#include <openssl/rsa.h>

int sigcheck_verify(const unsigned char *sig, int len, unsigned char *out, RSA *key) {
	return RSA_public_decrypt(len, sig, out, key, RSA_PKCS1_PADDING);
}
