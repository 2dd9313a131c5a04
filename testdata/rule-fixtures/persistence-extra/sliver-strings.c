/* Stand-in for a stripped Sliver implant: the package paths and protobuf message names
 * its Go runtime type data keeps. Never run. */
#include <stdio.h>

static const char *const s[] = {
	"github.com/bishopfox/sliver/protobuf/sliverpb",
	"github.com/bishopfox/sliver/protobuf/commonpb",
	"*sliverpb.Envelope",
	"sliverpb.Register",
	"commonpb.Request",
};

int main(int argc, char **argv) {
	(void)argv;
	for (unsigned i = 0; i < sizeof s / sizeof s[0]; i++)
		if ((int)i == argc)
			puts(s[i]);
	return 0;
}
