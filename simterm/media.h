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
 * Sink: counts packets and bytes, checks the SSRC, sequence (loss,
 * duplicates, reordering), timestamp progress, the RFC 3550 interarrival
 * jitter estimate, and records who sent (source endpoints with counts).
 * Datagrams that are not RTP/RTCP are counted as bad and dropped.
 *
 * Timers: one per stream (next RTP packet or next RTCP report). */
#ifndef TV_MEDIA_H
#define TV_MEDIA_H

#include "host.h"

#define MEDIA_SOURCES 8

typedef struct media_cfg {
	uint8_t pt;                     /* payload type [0 = PCMU] */
	uint32_t ssrc;                  /* [random from the host's generator] */
	tv_time ptime;                  /* [20 ms] */
	uint16_t payload_len;           /* [160] */
	uint32_t clock_rate;            /* [8000] */
	tv_time rtcp_interval;          /* [5 s]; RTCP is off if rtcp_port == 0 and !rtcp_mux */
	bool rtcp_mux;                  /* RTCP on the RTP port (RFC 5761) */
	bool asymmetric;                /* send RTP/RTCP from send_port(+1) instead */
	uint16_t send_port;             /* for asymmetric; [rtp_port + 1000] */
} media_cfg;

typedef struct media_stats {
	uint64_t rtp_tx, rtcp_tx, rtp_tx_bytes;
	uint64_t rtp_rx, rtcp_rx, rtp_rx_bytes, rtcp_sr_rx, rtcp_rr_rx;
	uint64_t lost, dup, reordered, bad;
	uint32_t remote_ssrc;           /* first SSRC heard; 0 if none */
	uint64_t ssrc_changes;          /* RTP from a different SSRC than the first */
	double jitter_ms;               /* RFC 3550 estimate, in milliseconds */
	tv_time first_rx, last_rx;      /* 0 if nothing arrived */
	tv_time first_tx;               /* the first RTP packet sent; 0 if none */
	tv_time max_gap;                /* longest interval between two RTP arrivals */
	struct { tv_ep ep; uint64_t n; } src[MEDIA_SOURCES];    /* RTP sources seen */
	int nsrc;
} media_stats;

typedef struct media_stream media_stream;

/* Open RTP on local rtp_port and RTCP on rtcp_port (0: no RTCP socket, or
 * the RTP port if cfg->rtcp_mux). Nothing is sent until media_start. */
media_stream *media_new(tv_host *h, uint16_t rtp_port, uint16_t rtcp_port, const media_cfg *cfg, int *err);
void media_free(media_stream *m);
/* Where to send. rtcp may be NULL (no RTCP sent). Can change mid-stream. */
void media_set_remote(media_stream *m, const tv_ep *rtp, const tv_ep *rtcp);
void media_start(media_stream *m);
void media_stop(media_stream *m);
void media_mute(media_stream *m, bool mute);
const media_stats *media_get_stats(const media_stream *m);
uint16_t media_rtp_port(const media_stream *m);
uint16_t media_rtcp_port(const media_stream *m);

#endif
