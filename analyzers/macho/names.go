package macho

import (
	"fmt"
	"strings"
)

const lcReqDyld = 0x80000000

var loadCommandNames = map[uint32]string{
	0x1:              "lc_segment",
	0x2:              "lc_symtab",
	0x3:              "lc_symseg",
	0x4:              "lc_thread",
	0x5:              "lc_unixthread",
	0x6:              "lc_loadfvmlib",
	0x7:              "lc_idfvmlib",
	0x8:              "lc_ident",
	0x9:              "lc_fvmfile",
	0xa:              "lc_prepage",
	0xb:              "lc_dysymtab",
	0xc:              "lc_load_dylib",
	0xd:              "lc_id_dylib",
	0xe:              "lc_load_dylinker",
	0xf:              "lc_id_dylinker",
	0x10:             "lc_prebound_dylib",
	0x11:             "lc_routines",
	0x12:             "lc_sub_framework",
	0x13:             "lc_sub_umbrella",
	0x14:             "lc_sub_client",
	0x15:             "lc_sub_library",
	0x16:             "lc_twolevel_hints",
	0x17:             "lc_prebind_cksum",
	0x18 | lcReqDyld: "lc_load_weak_dylib",
	0x19:             "lc_segment_64",
	0x1a:             "lc_routines_64",
	0x1b:             "lc_uuid",
	0x1c | lcReqDyld: "lc_rpath",
	0x1d:             "lc_code_signature",
	0x1e:             "lc_segment_split_info",
	0x1f | lcReqDyld: "lc_reexport_dylib",
	0x20:             "lc_lazy_load_dylib",
	0x21:             "lc_encryption_info",
	0x22:             "lc_dyld_info",
	0x22 | lcReqDyld: "lc_dyld_info_only",
	0x23 | lcReqDyld: "lc_load_upward_dylib",
	0x24:             "lc_version_min_macosx",
	0x25:             "lc_version_min_iphoneos",
	0x26:             "lc_function_starts",
	0x27:             "lc_dyld_environment",
	0x28 | lcReqDyld: "lc_main",
	0x29:             "lc_data_in_code",
	0x2a:             "lc_source_version",
	0x2b:             "lc_dylib_code_sign_drs",
	0x2c:             "lc_encryption_info_64",
	0x2d:             "lc_linker_option",
	0x2e:             "lc_linker_optimization_hint",
	0x2f:             "lc_version_min_tvos",
	0x30:             "lc_version_min_watchos",
	0x31:             "lc_note",
	0x32:             "lc_build_version",
	0x33 | lcReqDyld: "lc_dyld_exports_trie",
	0x34 | lcReqDyld: "lc_dyld_chained_fixups",
	0x35 | lcReqDyld: "lc_fileset_entry",
	0x36:             "lc_atom_info",
}

func loadCommandName(cmd uint32) string {
	if n, ok := loadCommandNames[cmd]; ok {
		return n
	}
	return hex(cmd)
}

func hex[T ~uint8 | ~uint32 | ~uint64](v T) string { return fmt.Sprintf("%#x", v) }

const (
	cpuArch64   = 0x01000000
	cpuArch6432 = 0x02000000
)

func cpuName(cpu uint32) string {
	switch cpu {
	case 7:
		return "x86"
	case 7 | cpuArch64:
		return "x86_64"
	case 12:
		return "arm"
	case 12 | cpuArch64:
		return "arm64"
	case 12 | cpuArch6432:
		return "arm64_32"
	case 18:
		return "ppc"
	case 18 | cpuArch64:
		return "ppc64"
	}
	return hex(cpu)
}

func cpuSubtypeName(cpu, sub uint32) string {
	switch cpuName(cpu) {
	case "x86", "x86_64":
		switch sub {
		case 3:
			return "all"
		case 8:
			return "x86_64h"
		}
	case "arm64":
		switch sub {
		case 0:
			return "all"
		case 1:
			return "v8"
		case 2:
			return "arm64e"
		}
	case "arm64_32":
		switch sub {
		case 0:
			return "all"
		case 1:
			return "v8"
		}
	case "arm":
		switch sub {
		case 0:
			return "all"
		case 5:
			return "v4t"
		case 6:
			return "v6"
		case 7:
			return "v5tej"
		case 8:
			return "xscale"
		case 9:
			return "v7"
		case 10:
			return "v7f"
		case 11:
			return "v7s"
		case 12:
			return "v7k"
		case 13:
			return "v8"
		case 14:
			return "v6m"
		case 15:
			return "v7m"
		case 16:
			return "v7em"
		}
	case "ppc", "ppc64":
		if sub == 0 {
			return "all"
		}
	}
	return ""
}

var fileTypeNames = []string{1: "object", 2: "execute", 3: "fvmlib", 4: "core", 5: "preload",
	6: "dylib", 7: "dylinker", 8: "bundle", 9: "dylib_stub", 10: "dsym", 11: "kext_bundle", 12: "fileset"}

func fileTypeName(t uint32) string {
	if t < uint32(len(fileTypeNames)) && fileTypeNames[t] != "" {
		return fileTypeNames[t]
	}
	return hex(t)
}

const mhPIE = 0x200000

var headerFlagNames = []string{
	"noundefs", "incrlink", "dyldlink", "bindatload", "prebound", "split_segs", "lazy_init",
	"twolevel", "force_flat", "nomultidefs", "nofixprebinding", "prebindable", "allmodsbound",
	"subsections_via_symbols", "canonical", "weak_defines", "binds_to_weak",
	"allow_stack_execution", "root_safe", "setuid_safe", "no_reexported_dylibs", "pie",
	"dead_strippable_dylib", "has_tlv_descriptors", "no_heap_execution",
	"app_extension_safe", "nlist_outofsync_with_dyldinfo", "sim_support", "", "", "",
	"dylib_in_cache",
}

// bitNames names the set bits of v from names (bit i is names[i]); an unnamed bit is
// "0x…".
func bitNames(v uint32, names []string) []string {
	out := []string{}
	for i := 0; i < 32; i++ {
		bit := uint32(1) << i
		if v&bit == 0 {
			continue
		}
		if i < len(names) && names[i] != "" {
			out = append(out, names[i])
		} else {
			out = append(out, hex(bit))
		}
	}
	return out
}

var platformNames = []string{1: "macos", 2: "ios", 3: "tvos", 4: "watchos", 5: "bridgeos",
	6: "maccatalyst", 7: "iossimulator", 8: "tvossimulator", 9: "watchossimulator",
	10: "driverkit", 11: "visionos", 12: "visionossimulator"}

func platformName(p uint32) string {
	if p < uint32(len(platformNames)) && platformNames[p] != "" {
		return platformNames[p]
	}
	return hex(p)
}

var sectionTypeNames = []string{"regular", "zerofill", "cstring_literals", "4byte_literals",
	"8byte_literals", "literal_pointers", "non_lazy_symbol_pointers", "lazy_symbol_pointers",
	"symbol_stubs", "mod_init_func_pointers", "mod_term_func_pointers", "coalesced",
	"gb_zerofill", "interposing", "16byte_literals", "dtrace_dof", "lazy_dylib_symbol_pointers",
	"thread_local_regular", "thread_local_zerofill", "thread_local_variables",
	"thread_local_variable_pointers", "thread_local_init_function_pointers",
	"init_func_offsets"}

func sectionTypeName(flags uint32) string {
	t := flags & 0xff
	if t < uint32(len(sectionTypeNames)) {
		return sectionTypeNames[t]
	}
	return hex(t)
}

// zeroFill reports whether a section of this type has no bytes in the file.
func zeroFill(flags uint32) bool {
	switch flags & 0xff {
	case 0x1, 0xc, 0x12:
		return true
	}
	return false
}

func protString(p uint32) string {
	b := []byte("---")
	if p&1 != 0 {
		b[0] = 'r'
	}
	if p&2 != 0 {
		b[1] = 'w'
	}
	if p&4 != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// version formats a packed xxxx.yy.zz version; withPatch keeps a zero patch level.
func version(v uint32, withPatch bool) string {
	major, minor, patch := v>>16, (v>>8)&0xff, v&0xff
	if patch == 0 && !withPatch {
		return fmt.Sprintf("%d.%d", major, minor)
	}
	return fmt.Sprintf("%d.%d.%d", major, minor, patch)
}

var csFlagNames = []string{1: "adhoc", 2: "get_task_allow", 3: "installer", 4: "forced_lv",
	5: "invalid_allowed", 8: "hard", 9: "kill", 10: "check_expiration", 11: "restrict",
	12: "enforcement", 13: "require_lv", 14: "entitlements_validated",
	15: "nvram_unrestricted", 16: "runtime", 17: "linker_signed"}

var execSegFlagNames = []string{0: "main_binary", 4: "allow_unsigned", 5: "debugger", 6: "jit",
	7: "skip_lv", 8: "can_load_cdhash", 9: "can_exec_cdhash"}

func hashTypeName(t uint8) string {
	switch t {
	case 1:
		return "sha1"
	case 2:
		return "sha256"
	case 3:
		return "sha256_truncated"
	case 4:
		return "sha384"
	}
	return hex(t)
}

func blobSlotName(slot uint32) string {
	switch {
	case slot == 0:
		return "codedirectory"
	case slot == 1:
		return "info"
	case slot == 2:
		return "requirements"
	case slot == 3:
		return "resourcedir"
	case slot == 4:
		return "application"
	case slot == 5:
		return "entitlements"
	case slot == 7:
		return "der_entitlements"
	case slot == 8:
		return "launch_constraint_self"
	case slot == 9:
		return "launch_constraint_parent"
	case slot == 10:
		return "launch_constraint_responsible"
	case slot == 11:
		return "library_constraint"
	case slot >= 0x1000 && slot < 0x1005:
		return "alternate_codedirectory"
	case slot == 0x10000:
		return "cms_signature"
	case slot == 0x10001:
		return "identification"
	case slot == 0x10002:
		return "ticket"
	}
	return hex(slot)
}

// cstring is b up to its first NUL, with invalid UTF-8 replaced.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
