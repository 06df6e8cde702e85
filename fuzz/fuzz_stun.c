/* fuzz_stun.c - libFuzzer: the STUN decoder on arbitrary bytes. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stun_msg m;
	uint8_t out[STUN_MSG_MAX];
	uint8_t *copy = malloc(size ? size : 1);

	memcpy(copy, data, size);     /* an exact-size heap copy: ASan sees any overread */
	stun_msg_is_stun(copy, size);
	if (stun_msg_decode(copy, size, &m) == 0)
		stun_msg_encode(&m, out, sizeof(out));
	free(copy);
	return 0;
}
