/* dash.h - `traverse dash` (dash.c). */
#ifndef TV_DASH_H
#define TV_DASH_H

#include <stdbool.h>

#include "scn.h"

extern const char dash_usage[];
int cmd_dash(int argc, char **argv);

/* traverse run --dash (dash_sim.c): open the screen and get the watcher to
 * put in scn_opts; after each run, dash_sim_done shows its end until q;
 * dash_sim_close gives the terminal back. */
const scn_watcher *dash_sim_open(double speed, bool paused);
void dash_sim_done(const scn_result *r);
void dash_sim_close(void);

#endif
