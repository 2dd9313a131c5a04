/* A program with an executable section of encrypted bytes, standing in for the stub of a
 * crypter: the section holds 12 KiB of AES-CTR keystream (included by the assembler from
 * a file build.d/obfuscation-extra.sh writes), which no compiler emits as code. */
#include <stdio.h>

#ifdef _WIN32
__asm__(".section .stub,\"xr\"\n.globl payload\npayload:\n.incbin \"" PAYLOAD "\"\n.text\n");
#else
__asm__(".section .stub,\"ax\",@progbits\n.globl payload\npayload:\n.incbin \"" PAYLOAD "\"\n.text\n");
#endif
extern const unsigned char payload[];

int main(void) {
	printf("%02x\n", payload[0]);
	return 0;
}
