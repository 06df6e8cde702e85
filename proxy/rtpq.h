/* rtpq.h - the quality of a relayed media stream, measured by the relay
 * from the headers of what it forwards: loss by extended sequence number
 * (RFC 3550 A.1, A.3), interarrival jitter (A.8), the time of the last
 * packet, and the round trip beyond the relay from RTCP LSR/DLSR (6.4.1).
 *
 * One rtpq_dir per stream and direction. Pure: header fields and now in,
 * numbers out; no allocation, no clock, no I/O, O(1) per RTP packet (it
 * runs on the relay's hot path). The caller hands only well-formed RTP
 * (version 2, at least 12 bytes: relay.c drops the rest before) and RTCP
 * (version 2, at least 8 bytes).
 *
 * Round trip: the relay sees both directions, so when a sender report (SR)
 * passes in direction d it notes the SR's NTP middle 32 bits and when; a
 * report block that comes back the other way naming that SR (LSR) and the
 * time its sender held it (DLSR) gives the round trip from the relay to
 * the SR's receiver and back: now - noted - DLSR. That is the half of the
 * path on the far side of the relay in direction d; the two halves add up
 * to the terminals' round trip. */
#ifndef TV_RTPQ_H
#define TV_RTPQ_H

#include "tv.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct rtpq_dir {
	/* Per RTP packet (64 bytes, first): the current SSRC's sequence and
	 * jitter state. An "epoch" is one SSRC until a new SSRC or a sequence
	 * restart; earlier epochs are folded into *_before. */
	uint32_t ssrc;
	uint16_t max_seq;
	bool have_seq, have_transit;
	uint32_t cycles;                /* sequence wraps, times 65536 */
	uint32_t bad_seq;               /* A.1: the sequence that confirms a jump; > 65535: none */
	uint32_t received;              /* packets of this epoch, duplicates included (A.3) */
	uint32_t transit;               /* A.8, timestamp units */
	uint32_t rate;                  /* the clock rate per_us was made for */
	uint64_t per_us;                /* timestamp units per microsecond, times 2^32 */
	uint64_t jitter_q4;             /* A.8 estimate times 16, timestamp units */
	tv_time t0;                     /* arrival times count from here (no overflow on a live clock) */
	tv_time last;                   /* the last RTP packet; 0: none yet */
	/* At a restart or when asked */
	uint32_t base_seq;
	uint64_t exp_before, rcv_before;
	/* RTCP: the last SR that passed this way, and the round trip it gave */
	uint32_t sr_ssrc, sr_mid;       /* sender and NTP middle 32 bits; sr_at 0: none */
	tv_time sr_at;
	tv_time rtt;                    /* relay -> SR's receiver -> relay; -1: not known */
	uint64_t rtt_n;                 /* round trips measured */
} rtpq_dir;

void rtpq_init(rtpq_dir *q);
/* One relayed RTP packet: h is its header (>= 12 bytes, version 2), rate
 * the stream's clock rate (timestamp units per second, > 0). */
void rtpq_rtp(rtpq_dir *q, const uint8_t *h, uint32_t rate, tv_time now);
/* One relayed RTCP datagram (compound or not) going the way q measures;
 * back is the other direction's state (whose SRs this one's report blocks
 * answer). Reads the first packet if it is an SR or RR; bounds checked. */
void rtpq_rtcp(rtpq_dir *q, rtpq_dir *back, const uint8_t *d, size_t len, tv_time now);

/* Packets expected (highest extended sequence - first + 1) and received,
 * over the stream's life. */
uint64_t rtpq_expected(const rtpq_dir *q);
uint64_t rtpq_received(const rtpq_dir *q);
/* expected - received, 0 if duplicates made it negative. */
uint64_t rtpq_lost(const rtpq_dir *q);
/* The jitter estimate in milliseconds at that clock rate. */
double rtpq_jitter_ms(const rtpq_dir *q, uint32_t rate);

/* The codec of the first payload type of an m= line: pt its number and
 * enc the encoding of its a=rtpmap ("PCMU/8000", "opus/48000/2"), or NULL
 * when there is none. Static payload types have their RFC 3551 (table 4)
 * names and rates; an rtpmap says both for any type. When neither does,
 * the name is "" and the rate 8000, with rate_known false. */
typedef struct rtpq_codec {
	char name[16];                  /* "" when unknown */
	uint32_t rate;                  /* timestamp units per second */
	bool rate_known;                /* false: 8000 assumed */
} rtpq_codec;
void rtpq_codec_of(int pt, const char *enc, rtpq_codec *c);

#endif
