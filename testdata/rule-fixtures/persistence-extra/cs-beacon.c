/* Stand-in for a Cobalt Strike beacon: the strings public detection rules key on
 * (default named pipe, PowerShell import one-liner, token listing format, DNS query
 * template, reflective DLL name). It does nothing with them. Never run. */
#include <stdio.h>

static const char *const s[] = {
	"\\\\.\\pipe\\MSSE-%d-server",
	"IEX (New-Object Net.Webclient).DownloadString('http://127.0.0.1:%u/')",
	"%%IMPORT%%",
	"%s as %s\\%s: %d",
	"%s.4%08x%08x%08x%08x%08x.%s",
	"beacon.x64.dll",
	"could not spawn %s: %d",
};

int main(int argc, char **argv) {
	(void)argv;
	for (unsigned i = 0; i < sizeof s / sizeof s[0]; i++)
		if ((int)i == argc)
			puts(s[i]);
	return 0;
}
