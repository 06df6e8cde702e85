/* sip_peek.c - the few fields of a SIP message an operator's view needs
 * (sip_peek.h): the control socket's "sip" events and the dashboard's
 * call-flow ladder read messages with it. */
#include "sip_peek.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The status code of a response's first line, 0 for a request. */
int sip_peek_status(const char *first)
{
	if (strncmp(first, "SIP/2.0 ", 8) || first[8] < '1' || first[8] > '6')
		return 0;
	return atoi(first + 8);
}

/* A request's method: the first word, if the line ends in SIP/2.0. */
bool sip_peek_method(const char *first, char *out, size_t cap)
{
	size_t n = strcspn(first, " "), len = strlen(first);

	if (!n || n >= cap || first[n] != ' ' || len < 8 || strcmp(first + len - 7, "SIP/2.0"))
		return false;
	memcpy(out, first, n);
	out[n] = '\0';
	return true;
}


/* The line at *off (without CR LF) into out; *off moves past it. false at
 * the end of the bytes. */
static bool next_line(const uint8_t *p, size_t n, size_t *off, char *out, size_t cap)
{
	size_t i = *off, k = 0;

	if (i >= n)
		return false;
	for (; i < n && p[i] != '\n' && p[i] != '\r'; i++)
		if (k + 1 < cap)
			out[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[k] = '\0';
	if (i < n && p[i] == '\r')
		i++;
	if (i < n && p[i] == '\n')
		i++;
	*off = i;
	return true;
}

/* The user part of a From or To value ("Bob" <sip:bob@host>;tag=...). */
static void user_of(const char *v, char *out, size_t cap)
{
	const char *u = strstr(v, "sip:");

	if (!u && (u = strstr(v, "sips:")))
		u++;
	u = u ? u + 4 : v;
	snprintf(out, cap, "%.*s", (int)strcspn(u, "@;>: "), u);
}

int sip_peek(const uint8_t *p, size_t n, sip_peek_text *out)
{
	static const struct { const char *name; char compact; int field; } hdrs[] = {
		{ "Call-ID", 'i', 0 }, { "CSeq", 0, 1 }, { "From", 'f', 2 }, { "To", 't', 3 },
	};
	char line[512], meth[32];
	size_t off = 0;
	bool sip;

	memset(out, 0, sizeof(*out));
	/* text starts with a letter: RTP (0x80), STUN (0x00 0x01), CRLF do not */
	if (!n || !((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')))
		return 0;
	next_line(p, n, &off, line, sizeof(line));
	snprintf(out->first, sizeof(out->first), "%.95s", line);
	sip = sip_peek_status(line) || sip_peek_method(line, meth, sizeof(meth));
	while (next_line(p, n, &off, line, sizeof(line)) && line[0]) {
		size_t nl = strcspn(line, ":"), e = nl;
		const char *v;
		if (!line[nl])
			continue;
		while (e > 0 && (line[e - 1] == ' ' || line[e - 1] == '\t'))
			e--;
		for (v = line + nl + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (size_t h = 0; h < sizeof(hdrs) / sizeof(hdrs[0]); h++) {
			bool is = (e == strlen(hdrs[h].name) && !strncasecmp(line, hdrs[h].name, e)) ||
				  (hdrs[h].compact && e == 1 && (line[0] | 0x20) == hdrs[h].compact);
			if (!is)
				continue;
			if (hdrs[h].field == 0 && !out->call_id[0])
				snprintf(out->call_id, sizeof(out->call_id), "%s", v);
			else if (hdrs[h].field == 1 && !out->cseq[0])
				snprintf(out->cseq, sizeof(out->cseq), "%s", v);
			else if (hdrs[h].field == 2 && !out->from[0])
				user_of(v, out->from, sizeof(out->from));
			else if (hdrs[h].field == 3 && !out->to[0])
				user_of(v, out->to, sizeof(out->to));
		}
	}
	if (!sip && !out->call_id[0])
		return 0;
	if (!sip)
		snprintf(out->first, sizeof(out->first), "(unparsed)");
	return 1;
}
