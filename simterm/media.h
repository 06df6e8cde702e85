/* media.h - RTP/RTCP media for simulated terminals: a source that sends
 * like a G.711 phone and a sink that checks what arrives.
 *
 * Source: RTP (RFC 3550) with a fixed payload type, SSRC, 20 ms packets
 * (160 payload bytes: 172-byte RTP packets), sequence and timestamp
 * advancing normally; RTCP SR every rtcp_interval with an RR block for the
 * remote SSRC once one was heard. Mute stops RTP (as with VAD / a muted
 * phone) but RTCP continues. Symmetric RTP (the default) sends from the
 * port it receives on; asymmetric sends from another local port.
 *
 * RTP gate: on top of media_start/media_stop (whether the stream runs at
 * all: the call's state) and mute, RTP is sent only while the gate is
 * open. It opens at media_new unless cfg.manual, and media_rtp_set opens
 * or closes it. A budget (cfg.count, or media_rtp_set's count) closes it
 * after exactly that many RTP packets have been sent; ticks that send
 * nothing (muted, no remote) spend none of it, nor does a stopped stream
 * (on hold, before the call is up). A closed gate is
 * like mute: the tick, the timestamp and RTCP go on, and the first packet
 * after it opens carries the marker bit.
 *
 * Sink: counts packets and bytes and records who sent (source endpoints
 * with counts). Up to MEDIA_SSRCS SSRCs are tracked, each in its own
 * sequence space (loss, duplicates, reordering, RFC 3550 A.1), with its
 * packets, bytes, arrival times, interarrival jitter (A.8) and source
 * endpoints (media_ssrc_at). The stream-wide lost, dup and reordered are
 * the sums over the tracked SSRCs, so a stranger's packets never count as
 * losses of the real stream; packets of SSRCs beyond those have no row
 * and count in the stream-wide packet, byte and source counts and in
 * ssrc_overflow. remote_ssrc is the first SSRC heard: the stream-wide
 * jitter_ms, and the RR block and LSR of the RTCP this stream sends, are
 * about it alone. Datagrams that are not RTP/RTCP are counted as bad and
 * dropped.
 *
 * Timers: one per stream (next RTP packet or next RTCP report). */
#ifndef TV_MEDIA_H
#define TV_MEDIA_H

#include "host.h"

#define MEDIA_SOURCES 8                 /* source endpoints tracked per stream */
#define MEDIA_SSRCS 8                   /* SSRCs tracked per stream */
#define MEDIA_SSRC_SOURCES 4            /* source endpoints tracked per SSRC */
#define MEDIA_RTP_HDR 12
#define MEDIA_PAYLOAD_MAX 1488          /* 1500-byte RTP packets */
#define MEDIA_RTCP_MAX 256

typedef struct media_cfg {
	uint8_t pt;                     /* payload type [0 = PCMU] */
	uint32_t ssrc;                  /* [random from the host's generator] */
	tv_time ptime;                  /* [20 ms] */
	uint16_t payload_len;           /* [160]; at most MEDIA_PAYLOAD_MAX */
	uint32_t clock_rate;            /* [8000] */
	tv_time rtcp_interval;          /* [5 s]; RTCP is off if rtcp_port == 0 and !rtcp_mux */
	bool rtcp_mux;                  /* RTCP on the RTP port (RFC 5761) */
	bool asymmetric;                /* send RTP/RTCP from send_port(+1) instead */
	uint16_t send_port;             /* for asymmetric; [rtp_port + 1000] */
	bool manual;                    /* the RTP gate starts closed (media_rtp_set opens it) */
	uint64_t count;                 /* RTP packets to send, then the gate closes [0: no limit] */
} media_cfg;

/* A source endpoint and the RTP packets that came from it. */
typedef struct media_src {
	tv_ep ep;
	uint64_t n;
} media_src;

/* What one SSRC sent to the stream, in its own sequence space. */
typedef struct media_ssrc_stats {
	uint32_t ssrc;
	uint64_t rx, bytes;             /* valid RTP packets (duplicates included) and their bytes */
	uint64_t lost, dup, reordered;  /* RFC 3550 A.3: expected - received, may fall back */
	double jitter_ms;               /* RFC 3550 A.8 estimate */
	tv_time first_rx, last_rx;
	media_src src[MEDIA_SSRC_SOURCES];      /* where it came from; more are not tracked */
	int nsrc;
} media_ssrc_stats;

typedef struct media_stats {
	uint64_t rtp_tx, rtcp_tx, rtp_tx_bytes;
	uint64_t rtp_rx, rtcp_rx, rtp_rx_bytes, rtcp_sr_rx, rtcp_rr_rx;
	uint64_t lost, dup, reordered;  /* sums over the tracked SSRCs */
	uint64_t bad;                   /* neither valid RTP nor valid RTCP */
	uint32_t remote_ssrc;           /* first SSRC heard; 0 if none */
	uint64_t ssrc_changes;          /* RTP packets from any SSRC but the first heard */
	int nssrc;                      /* distinct SSRCs tracked (media_ssrc_at) */
	uint64_t ssrc_overflow;         /* RTP packets from SSRCs heard after MEDIA_SSRCS others */
	/* valid RTCP compounds by the sender SSRC of their first SR/RR (an
	 * injector's reports are told from the peer's); more are not tracked */
	struct { uint32_t ssrc; uint64_t n; } rtcp_from[MEDIA_SSRCS];
	int nrtcp_from;
	double jitter_ms;               /* RFC 3550 estimate for remote_ssrc, in milliseconds */
	tv_time first_rx, last_rx;      /* 0 if nothing arrived */
	tv_time first_tx;               /* the first RTP packet sent; 0 if none */
	tv_time last_tx;                /* the latest one */
	tv_ep last_src;                 /* where the latest RTP packet came from */
	tv_time max_gap;                /* longest interval between two RTP arrivals */
	media_src src[MEDIA_SOURCES];   /* RTP sources seen */
	int nsrc;
} media_stats;

typedef struct media_stream media_stream;

/* Open RTP on local rtp_port and RTCP on rtcp_port (0: no RTCP socket, or
 * the RTP port if cfg->rtcp_mux). Nothing is sent until media_start. */
media_stream *media_new(tv_host *h, uint16_t rtp_port, uint16_t rtcp_port, const media_cfg *cfg, int *err);
void media_free(media_stream *m);
/* Where to send. rtcp may be NULL (no RTCP sent). Can change mid-stream. */
void media_set_remote(media_stream *m, const tv_ep *rtp, const tv_ep *rtcp);
/* Where RTP goes (port 0: nowhere yet). */
tv_ep media_remote_rtp(const media_stream *m);
void media_start(media_stream *m);
void media_stop(media_stream *m);
void media_mute(media_stream *m, bool mute);
/* Open the RTP gate (count > 0: for exactly count more packets; 0: no
 * limit) or close it. */
void media_rtp_set(media_stream *m, bool on, uint64_t count);
const media_stats *media_get_stats(const media_stream *m);
/* The SSRC this stream sends with. */
uint32_t media_ssrc(const media_stream *m);
/* The tracked SSRCs, in the order first heard (i from 0 to
 * media_ssrc_count - 1; NULL outside). media_ssrc_find: NULL if never heard. */
int media_ssrc_count(const media_stream *m);
const media_ssrc_stats *media_ssrc_at(const media_stream *m, int i);
/* RTCP compounds received whose sender SSRC is ssrc (0 if never heard). */
uint64_t media_rtcp_from(const media_stream *m, uint32_t ssrc);
const media_ssrc_stats *media_ssrc_find(const media_stream *m, uint32_t ssrc);
uint16_t media_rtp_port(const media_stream *m);
uint16_t media_rtcp_port(const media_stream *m);

/* RTCP as the source writes it, for others that send RTCP too. */
typedef struct media_sr {               /* the sender info of an SR (RFC 3550 6.4.1) */
	uint64_t ntp;                   /* media_ntp */
	uint32_t rtp_ts, packets, octets;
} media_sr;
/* NTP time at virtual time now (0 is 2026-01-01T00:00:00Z, as in the pcaps). */
uint64_t media_ntp(tv_time now);
/* A compound packet into b (MEDIA_RTCP_MAX bytes): an SR with sr's sender
 * info (RR if sr is NULL) from ssrc with nblocks (0 to 4) 24-byte report
 * blocks, then an SDES with one CNAME chunk (the first 63 bytes of cname).
 * Returns its length, a multiple of 4. */
size_t media_rtcp_write(uint8_t *b, uint32_t ssrc, const media_sr *sr, const uint8_t *blocks, int nblocks,
			const char *cname);

#endif
