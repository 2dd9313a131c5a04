package pe

import (
	"fmt"
	"strings"
)

// flagName is one named bit of a characteristics field.
type flagName struct {
	bit  uint32
	name string
}

var machines = map[uint16]string{
	0x0:    "unknown",
	0x14c:  "i386",
	0x8664: "amd64",
	0xaa64: "arm64",
	0x1c0:  "arm",
	0x1c4:  "armnt",
	0x200:  "ia64",
	0xebc:  "ebc",
	0x5032: "riscv32",
	0x5064: "riscv64",
	0x6232: "loongarch32",
	0x6264: "loongarch64",
	0xa641: "arm64ec",
	0x1c2:  "thumb",
	0x166:  "r4000",
	0x1f0:  "powerpc",
}

func machineName(m uint16) string {
	if n, ok := machines[m]; ok {
		return n
	}
	return fmt.Sprintf("0x%04x", m)
}

var subsystems = map[uint16]string{
	0:  "unknown",
	1:  "native",
	2:  "windows_gui",
	3:  "windows_cui",
	5:  "os2_cui",
	7:  "posix_cui",
	8:  "native_windows",
	9:  "windows_ce_gui",
	10: "efi_application",
	11: "efi_boot_service_driver",
	12: "efi_runtime_driver",
	13: "efi_rom",
	14: "xbox",
	16: "windows_boot_application",
}

func subsystemName(s uint16) string {
	if n, ok := subsystems[s]; ok {
		return n
	}
	return fmt.Sprintf("0x%x", s)
}

var fileCharacteristics = []flagName{
	{0x0001, "relocs_stripped"},
	{0x0002, "executable_image"},
	{0x0004, "line_nums_stripped"},
	{0x0008, "local_syms_stripped"},
	{0x0010, "aggressive_ws_trim"},
	{0x0020, "large_address_aware"},
	{0x0080, "bytes_reversed_lo"},
	{0x0100, "32bit_machine"},
	{0x0200, "debug_stripped"},
	{0x0400, "removable_run_from_swap"},
	{0x0800, "net_run_from_swap"},
	{0x1000, "system"},
	{0x2000, "dll"},
	{0x4000, "up_system_only"},
	{0x8000, "bytes_reversed_hi"},
}

const (
	dllHighEntropyVA  = 0x0020
	dllDynamicBase    = 0x0040
	dllForceIntegrity = 0x0080
	dllNXCompat       = 0x0100
	dllNoIsolation    = 0x0200
	dllNoSEH          = 0x0400
	dllNoBind         = 0x0800
	dllAppContainer   = 0x1000
	dllWDMDriver      = 0x2000
	dllGuardCF        = 0x4000
	dllTSAware        = 0x8000
)

var dllCharacteristics = []flagName{
	{dllHighEntropyVA, "high_entropy_va"},
	{dllDynamicBase, "dynamic_base"},
	{dllForceIntegrity, "force_integrity"},
	{dllNXCompat, "nx_compat"},
	{dllNoIsolation, "no_isolation"},
	{dllNoSEH, "no_seh"},
	{dllNoBind, "no_bind"},
	{dllAppContainer, "appcontainer"},
	{dllWDMDriver, "wdm_driver"},
	{dllGuardCF, "guard_cf"},
	{dllTSAware, "terminal_server_aware"},
}

const (
	scnCode       = 0x00000020
	scnMemExecute = 0x20000000
	scnMemRead    = 0x40000000
	scnMemWrite   = 0x80000000
)

var sectionFlags = []flagName{
	{0x00000008, "type_no_pad"},
	{scnCode, "cnt_code"},
	{0x00000040, "cnt_initialized_data"},
	{0x00000080, "cnt_uninitialized_data"},
	{0x00000200, "lnk_info"},
	{0x00000800, "lnk_remove"},
	{0x00001000, "lnk_comdat"},
	{0x00008000, "gprel"},
	{0x01000000, "lnk_nreloc_ovfl"},
	{0x02000000, "mem_discardable"},
	{0x04000000, "mem_not_cached"},
	{0x08000000, "mem_not_paged"},
	{0x10000000, "mem_shared"},
	{scnMemExecute, "mem_execute"},
	{scnMemRead, "mem_read"},
	{scnMemWrite, "mem_write"},
}

func flagNames(v uint32, table []flagName) []string {
	out := []string{}
	for _, f := range table {
		if v&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// perm writes a section's memory protection as "RWX" letters.
func perm(c uint32) string {
	b := []byte("---")
	if c&scnMemRead != 0 {
		b[0] = 'R'
	}
	if c&scnMemWrite != 0 {
		b[1] = 'W'
	}
	if c&scnMemExecute != 0 {
		b[2] = 'X'
	}
	return string(b)
}

var debugTypes = map[uint32]string{
	0:  "unknown",
	1:  "coff",
	2:  "codeview",
	3:  "fpo",
	4:  "misc",
	5:  "exception",
	6:  "fixup",
	7:  "omap_to_src",
	8:  "omap_from_src",
	9:  "borland",
	10: "reserved10",
	11: "clsid",
	12: "vc_feature",
	13: "pogo",
	14: "iltcg",
	15: "mpx",
	16: "repro",
	17: "embedded_portable_pdb",
	19: "pdbchecksum",
	20: "ex_dllcharacteristics",
}

func debugTypeName(t uint32) string {
	if n, ok := debugTypes[t]; ok {
		return n
	}
	return fmt.Sprintf("type %d", t)
}

// cleanName turns a fixed-size NUL-padded name into a string.
func cleanName(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
