/* An ordinary compression library with a CRC function chosen by an IFUNC resolver,
   as xz 5.6 built it: the IFUNC alone, without anything aimed at sshd or libcrypto.
   Never run. */
#include <stddef.h>
#include <stdint.h>

static uint64_t crc64_generic(const uint8_t *buf, size_t size, uint64_t crc) {
	while (size--) crc = (crc >> 8) ^ (crc ^ *buf++);
	return crc;
}
static void *crc64_resolve(void) { return (void *)crc64_generic; }
uint64_t lzma_crc64(const uint8_t *buf, size_t size, uint64_t crc) __attribute__((ifunc("crc64_resolve")));

int lzma_code(void *strm, int action) { return action; }
int lzma_easy_encoder(void *strm, uint32_t preset, int check) { return (int)preset + check; }
