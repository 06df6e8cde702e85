/* fuzz_scn.c - libFuzzer: arbitrary text as a scenario file through the
 * reader and the validating (dry) pass. */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	FILE *fp;
	scn_file f;

	snprintf(path, sizeof(path), "/dev/shm/traverse-fuzz-%d.scn", (int)getpid());
	fp = fopen(path, "wb");
	if (!fp)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	if (scn_load(path, &f) == 0) {
		scn_check(&f);
		scn_file_free(&f);
	}
	unlink(path);
	return 0;
}
