/* sip_frame.h - where a SIP message ends, and its header unfolded.
 *
 * RFC 3261 18.3: over a stream (TCP) Content-Length frames the message and
 * must be present; over UDP it bounds the body, bytes beyond it are
 * discarded, and a body shorter than it makes the message bad (requests
 * get 400, responses are dropped). The header field is found in any case
 * and form ("Content-Length", compact "l", spaces before the colon, a
 * folded value); two that disagree, a sign, or anything but digits make
 * the message bad.
 *
 * RFC 3261 7.3.1: a header line may be folded onto continuation lines that
 * start with SP or HTAB; the fold means one SP. sip_unfold() replaces
 * each fold (CRLF and the white space after it) by one SP in place and
 * moves the body up, so the span finders, libosip2 (which refuses some
 * white space RFC 3261 allows, such as a tab before '<') and the rewrite
 * never see a fold. The message goes on unfolded, which is equivalent. */
#ifndef TV_SIP_FRAME_H
#define TV_SIP_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#define SIP_UDP_MAX 65507       /* largest UDP payload over IPv4 */
#define SIP_TCP_MAX 65536       /* largest message we frame on a stream */

enum sip_frame_rc {
	SF_OK = 0,              /* one whole message: f->msg_len bytes */
	SF_MORE = 1,            /* stream: not all of it has arrived yet (msg_len set
				   once the header is complete, else 0) */
	SF_BAD_LENGTH = -1,     /* Content-Length missing (stream), bad, or beyond the datagram */
	SF_NO_HEADER_END = -2,  /* datagram without the blank line */
	SF_TOO_BIG = -3,        /* longer than max */
};

typedef struct sip_frame {
	size_t hdr_len;         /* up to and including the blank line */
	size_t body_len;
	size_t msg_len;         /* hdr_len + body_len */
	size_t extra;           /* datagram bytes beyond Content-Length (discarded) */
	bool has_length;        /* a Content-Length header was present */
} sip_frame;

/* Frame the message at the start of buf. stream: TCP rules, else UDP
 * rules. Reads only [0, len). */
int sip_frame_find(const char *buf, size_t len, bool stream, size_t max, sip_frame *f);
/* Unfold the header [0, hdr_len) of the message buf[0, *len) in place;
 * *len shrinks by what was removed. Returns the number of folds. */
int sip_unfold(char *buf, size_t *len, size_t hdr_len);

#endif
