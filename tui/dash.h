/* dash.h - `traverse dash` (dash.c). */
#ifndef TV_DASH_H
#define TV_DASH_H

extern const char dash_usage[];
int cmd_dash(int argc, char **argv);

#endif
