/* The shape of the xz-utils backdoor (CVE-2024-3094): a compression library whose CRC
   function is chosen by an IFUNC resolver, and which names the sshd and libcrypto
   functions it goes after. The resolver here only picks the portable CRC. Never run. */
#include <stddef.h>
#include <stdint.h>

static const char *const targets[] = {"RSA_public_decrypt", "RSA_get0_key", "_dl_audit_symbind_alt", "/usr/sbin/sshd"};
const char *const *lzma_targets_unused = targets;

static uint64_t crc64_generic(const uint8_t *buf, size_t size, uint64_t crc) {
	while (size--) crc = (crc >> 8) ^ (crc ^ *buf++);
	return crc;
}
static void *crc64_resolve(void) { return (void *)crc64_generic; }
uint64_t lzma_crc64(const uint8_t *buf, size_t size, uint64_t crc) __attribute__((ifunc("crc64_resolve")));

int lzma_code(void *strm, int action) { return action; }
int lzma_easy_encoder(void *strm, uint32_t preset, int check) { return (int)preset + check; }
