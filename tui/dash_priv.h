/* dash_priv.h - the dashboard's screen, shared by its two sources:
 * attached to a traverse-proxy (dash.c) and a scenario in simulation
 * (dash_sim.c). Only these files know curses. */
#ifndef TV_DASH_PRIV_H
#define TV_DASH_PRIV_H

#include <stdbool.h>
#include <time.h>

#include "dash_model.h"

struct conn {
	int fd;
	char buf[1 << 20];
	size_t have;
};

struct dash {
	const char *sock;
	double interval;
	struct conn ask, ev;
	dash_model m;
	enum dash_pane pane;
	int sort[DASH_NPANES];          /* column, -1: the proxy's order */
	bool desc[DASH_NPANES];
	int sel[DASH_NPANES], top[DASH_NPANES];
	char filter[64];
	bool editing, paused, help, details, colour, gone;
	struct timespec t0;
	double next_ask;
	/* a scenario in simulation (traverse run --dash) */
	bool sim;
	double speed;                   /* virtual seconds per real second */
	bool step;                      /* n: run to the next event, then hold */
	bool left;                      /* q during a run: the rest runs without the screen */
	/* pane 5: the ladder of one call instead of the list (Enter; Esc back) */
	bool ladder;
	char ladder_key[128];           /* the call: its Call-ID before '@' */
	int lsel, ltop;
};

/* Open and close the screen (curses, colour when the terminal has it). */
int dash_screen_open(struct dash *d);   /* -1: no terminal */
void dash_screen_close(void);
/* Draw everything from d->m. */
void dash_draw(struct dash *d);
/* Handle a key; false: the user quits. */
bool dash_key(struct dash *d, int k);

#endif
