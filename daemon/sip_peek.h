/* sip_peek.h - the first line, Call-ID, CSeq and the From/To users of a
 * SIP message, for an operator's view (sip_peek.c). Reads at most n bytes,
 * copies printable ASCII only (others as '?'), never fails on malformed
 * input. */
#ifndef TPD_SIP_PEEK_H
#define TPD_SIP_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sip_peek_text {
	char first[96], call_id[128], cseq[32], from[32], to[32];
} sip_peek_text;

/* 1 if p looks like SIP (a SIP first line, or a Call-ID: then first is
 * "(unparsed)"), else 0 (RTP, STUN, a CRLF keepalive). */
int sip_peek(const uint8_t *p, size_t n, sip_peek_text *out);
/* The status code of a response's first line, 0 for a request. */
int sip_peek_status(const char *first);
/* A request's method: the first word, if the line ends in SIP/2.0. */
bool sip_peek_method(const char *first, char *out, size_t cap);

#endif
