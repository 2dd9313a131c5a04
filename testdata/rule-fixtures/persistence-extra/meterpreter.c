/* Stand-in for a Meterpreter stage: server DLL name, reflective loader export name,
 * configuration markers and extension method names. Never run. */
#include <stdio.h>

static const char *const s[] = {
	"metsrv.x64.dll",
	"ReflectiveLoader",
	"METERPRETER_TRANSPORT_SSL",
	"METERPRETER_UA",
	"stdapi_sys_process_execute",
	"priv_elevate_getsystem",
};

int main(int argc, char **argv) {
	(void)argv;
	for (unsigned i = 0; i < sizeof s / sizeof s[0]; i++)
		if ((int)i == argc)
			puts(s[i]);
	return 0;
}
