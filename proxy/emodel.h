/* emodel.h - a listening-quality estimate after the ITU-T G.107 E-model,
 * simplified for a relayed call: R = R0 - Id - Ie,eff with
 *   R0 - Is = 93.2     every G.107 default (noise, loudness, sidetone);
 *   Id = Idd(Ta)       the delay impairment of G.107 7.4 for the one-way
 *                      delay Ta (0 up to 100 ms); talker echo (Idte) is
 *                      taken as cancelled and Idle as in the default R0;
 *   Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl), BurstR = 1
 *                      (random loss), Ie and Bpl per codec (G.113
 *                      Appendix I), Ppl the packet loss in percent;
 * and the MOS of G.107 Annex B: 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)
 * for 0 < R < 100 (1 below, 4.5 above).
 *
 * Pure functions of numbers: no proxy, no curses. The proxy computes the
 * estimate per stream when asked (proxy_foreach_stream), since it holds
 * the codec, the measurements and the configured delay. */
#ifndef TV_EMODEL_H
#define TV_EMODEL_H

#include <stdbool.h>

typedef struct emodel_codec {
	double ie;              /* equipment impairment without loss */
	double bpl;             /* packet-loss robustness */
} emodel_codec;

/* The figures of a codec by its rtpmap name (case-insensitive: "PCMU",
 * "PCMA", "G729", "G723"); plc says whether the receiver conceals lost
 * G.711 frames (Bpl 25.1, else 4.3). Returns false, leaving *c alone, for
 * a codec the table does not know. */
bool emodel_codec_find(const char *name, bool plc, emodel_codec *c);
/* Idd of G.107 for a one-way delay in ms. */
double emodel_idd(double ta_ms);
/* Ie,eff for a loss in percent (0-100). */
double emodel_ie_eff(const emodel_codec *c, double ppl);
/* R for a codec, a loss in percent and a one-way delay in ms. */
double emodel_r(const emodel_codec *c, double ppl, double ta_ms);
/* The MOS (listening quality, 1 to 4.5) of an R. */
double emodel_mos(double r);

#endif
