/* emodel.c - the E-model of ITU-T G.107, simplified (emodel.h). */
#include "emodel.h"

#include <math.h>
#include <strings.h>

#define EMODEL_R0 93.2          /* Ro - Is with every G.107 default */

/* G.113 Appendix I, tables I.1 and I.3 (random loss). */
static const struct {
	const char *name;
	double ie, bpl, bpl_noplc;
} emodel_codecs[] = {
	{ "PCMU", 0, 25.1, 4.3 },       /* G.711 mu-law: PLC of G.711 Appendix I, or none */
	{ "PCMA", 0, 25.1, 4.3 },       /* G.711 A-law */
	{ "G729", 11, 19.0, 19.0 },     /* G.729A + VAD */
	{ "G723", 15, 16.1, 16.1 },     /* G.723.1 + VAD, 6.3 kbit/s */
};

bool emodel_codec_find(const char *name, bool plc, emodel_codec *c)
{
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(emodel_codecs) / sizeof(emodel_codecs[0]); i++) {
		if (!strcasecmp(name, emodel_codecs[i].name)) {
			c->ie = emodel_codecs[i].ie;
			c->bpl = plc ? emodel_codecs[i].bpl : emodel_codecs[i].bpl_noplc;
			return true;
		}
	}
	return false;
}

double emodel_idd(double ta_ms)
{
	double x;

	if (!(ta_ms > 100))
		return 0;
	x = log(ta_ms / 100) / log(2);
	return 25 * (pow(1 + pow(x, 6), 1.0 / 6) - 3 * pow(1 + pow(x / 3, 6), 1.0 / 6) + 2);
}

double emodel_ie_eff(const emodel_codec *c, double ppl)
{
	if (!(ppl > 0))
		ppl = 0;
	if (ppl > 100)
		ppl = 100;
	return c->ie + (95 - c->ie) * ppl / (ppl + c->bpl);
}

double emodel_r(const emodel_codec *c, double ppl, double ta_ms)
{
	return EMODEL_R0 - emodel_idd(ta_ms) - emodel_ie_eff(c, ppl);
}

double emodel_mos(double r)
{
	if (!(r > 0))
		return 1;
	if (r >= 100)
		return 4.5;
	return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
}
