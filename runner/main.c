/* main.c - the traverse command: run and check scenario files. */
#include "scn.h"
#include "scn_netns.h"
#include "dash.h"

#include <osipparser2/osip_port.h>
#include <stdarg.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cmd_ctl(int argc, char **argv);
extern const char ctl_usage[];

static const char usage_main[] =
	"usage: traverse COMMAND [ARGS]\n"
	"\n"
	"Traverse simulates NATs, terminals and proxies on a virtual network and\n"
	"checks NAT traversal behaviour described in scenario files.\n"
	"\n"
	"commands:\n"
	"  run FILE|DIR...    run scenarios (DIR: every *.scn below it, sorted)\n"
	"  check FILE|DIR...  validate scenario files without running them\n"
	"  ctl COMMAND        ask a running traverse-proxy (stats, bindings, streams, events)\n"
	"  dash --attach SOCK watch a running traverse-proxy live (curses dashboard)\n"
	"  help [COMMAND]     show help\n"
	"\n"
	"Scenario format: docs/scenarios.md\n";

static const char usage_run[] =
	"usage: traverse run FILE|DIR|SUITE.list... [--seed N] [--pcap DIR] [--junit FILE] [--json FILE] [-v] [--live]\n"
	"\n"
	"Runs each scenario on a fresh simulated network and prints one line per\n"
	"scenario and a summary. A file with 'matrix' lines runs once per\n"
	"combination (one line, one JUnit case each) and prints a table of its\n"
	"runs and their 'show' values. Every file (every combination) is\n"
	"validated first; if any has an error, nothing runs. A SUITE.list file\n"
	"names scenario files or folders, one per line, relative to itself\n"
	"(scenarios/conformance.list is the SBC conformance suite).\n"
	"\n"
	"  --seed N      seed for every scenario (overrides 'seed' in files; default 1)\n"
	"  --pcap DIR    write one pcap per link: DIR/<dir>-<scenario>/<link>.pcap\n"
	"  --junit FILE  write a JUnit XML report\n"
	"  --json FILE   write a JSON report\n"
	"  -v            print each statement as it runs, with the virtual time\n"
	"  --live        run the proxy as a real traverse-proxy process on loopback:\n"
	"                phones, NATs and softswitch stay simulated and are bridged\n"
	"                to it through real UDP sockets; virtual time follows the\n"
	"                real clock. Scenarios that cannot run live are skipped with\n"
	"                the reason ('live skip', no proxy, TCP, too long)\n"
	"  --live-slot N addresses of a live run: 127.N.0.0/16 [100]\n"
	"  --live-max D  skip live scenarios whose timeline is longer [60s]\n"
	"  --proxy A:P   live, against a proxy or SBC Traverse did not start: phones\n"
	"                send to A:P; the simulated softswitch listens on\n"
	"                --softswitch-listen A:P [127.0.0.3:5060] for it. Checks of\n"
	"                what the proxy holds inside are counted, not made\n"
	"  --softswitch A:P  live, traverse-proxy forwards to this real softswitch\n"
	"                instead of the simulated one\n"
	"  --netns[=NAME] live, inside a network namespace (root), with the\n"
	"                scenario's addresses as written: phones keep their private\n"
	"                (RFC 1918) addresses, so an SBC's NAT detection works as\n"
	"                deployed. NAME: join `ip netns` NAME, where the SBC under\n"
	"                test (--proxy) runs; without it the run makes a namespace\n"
	"                of its own. Each address the run binds is put on lo; the\n"
	"                default route is a trap (TUN tvtrap): whatever the proxy\n"
	"                sends to an address nobody holds is caught there, named as\n"
	"                a finding ('Contact not rewritten: ...') and fails the run.\n"
	"                With --proxy the simulated softswitch listens on its own\n"
	"                address unless --softswitch-listen says otherwise. Real\n"
	"                hosts (host ... kind=netns: sipp, baresip behind the\n"
	"                scenario's NATs, started with exec) run only here; other\n"
	"                runs skip their scenarios\n"
	"  --nat-kind=K  with --netns: every NAT of every scenario is the Linux\n"
	"                kernel's own (K = linux: nftables masquerade; linux-random:\n"
	"                masquerade fully-random) in a namespace of its own, instead\n"
	"                of simnat; checks of its table are counted, not made\n"
	"  --dash        watch each scenario run in the dashboard (simulation only):\n"
	"                virtual time, bindings, streams, events, NAT tables, SIP\n"
	"                calls and their ladders, the topology; p pause,\n"
	"                n one event on, + - speed, q leave (the rest runs, then the\n"
	"                report); docs/dashboard.md\n"
	"  --speed X     with --dash: virtual seconds per real second, 0.1 to 1000 [1]\n"
	"  --paused      with --dash: start paused\n"
	"  -h, --help    this help\n"
	"\n"
	"Exit status: 0 if every scenario passed, 1 if any failed, 2 on usage or\n"
	"file errors.\n";

static const char usage_check[] =
	"usage: traverse check FILE|DIR...\n"
	"\n"
	"Parses and validates scenario files (names, options, values, order)\n"
	"without running them. Errors are printed as FILE:LINE: message.\n"
	"Exit status: 0 if all files are valid, 2 otherwise.\n";

typedef struct paths {
	char **v;
	int n, cap;
} paths;

static int paths_add(paths *p, const char *s)
{
	if (p->n == p->cap) {
		int nc = p->cap ? p->cap * 2 : 32;
		char **nv = realloc(p->v, (size_t)nc * sizeof(*nv));
		if (!nv)
			return -1;
		p->v = nv;
		p->cap = nc;
	}
	p->v[p->n] = strdup(s);
	return p->v[p->n] ? (p->n++, 0) : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(paths *p, const char *path);

/* A suite file (NAME.list): one scenario file or folder per line, relative
 * to the list's own folder; '#' starts a comment. */
static int collect_list(paths *p, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[1024], dir[2048], full[4096];
	const char *slash = strrchr(path, '/');
	int ln = 0, rc = 0;

	if (!fp) {
		fprintf(stderr, "traverse: %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path + 1) : 0, path);
	while (fgets(line, sizeof(line), fp)) {
		char *h = strchr(line, '#'), *b = line, *e;
		struct stat sb;
		ln++;
		if (h)
			*h = 0;
		while (*b == ' ' || *b == '\t')
			b++;
		e = b + strlen(b);
		while (e > b && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*b)
			continue;
		snprintf(full, sizeof(full), "%s%s", *b == '/' ? "" : dir, b);
		if (stat(full, &sb) < 0) {
			fprintf(stderr, "%s:%d: %s: %s\n", path, ln, b, strerror(errno));
			rc = -1;
			continue;
		}
		if (collect(p, full) < 0)
			rc = -1;
	}
	fclose(fp);
	return rc;
}

static int collect(paths *p, const char *path)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	paths sub = { 0 };

	if (stat(path, &sb) < 0) {
		fprintf(stderr, "traverse: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		size_t n = strlen(path);
		if (n > 5 && !strcmp(path + n - 5, ".list"))
			return collect_list(p, path);
		return paths_add(p, path);
	}
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "traverse: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char full[4096];
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", e->d_name);
		if (stat(full, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode) || (len > 4 && strcmp(e->d_name + len - 4, ".scn") == 0))
			paths_add(&sub, full);
	}
	closedir(d);
	if (sub.n)              /* a folder with no scenario (e.g. data/) */
		qsort(sub.v, (size_t)sub.n, sizeof(char *), cmp_str);
	for (int i = 0; i < sub.n; i++) {
		stat(sub.v[i], &sb);
		if (S_ISDIR(sb.st_mode))
			collect(p, sub.v[i]);
		else
			paths_add(p, sub.v[i]);
		free(sub.v[i]);
	}
	free(sub.v);
	return 0;
}

static void paths_free(paths *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

/* Load and validate every file, every variant of a matrix. Returns the
 * number of bad files; *runs gets the number of runs they make. */
static int load_all(const paths *p, scn_file *files, int *runs)
{
	int bad = 0;

	*runs = 0;
	for (int i = 0; i < p->n; i++) {
		bool ok = scn_load(p->v[i], &files[i]) == 0;

		for (int k = 0; ok && k < files[i].nvariants; k++)
			ok = (k == 0 || scn_select(&files[i], k) == 0) && scn_check(&files[i]) == 0;
		bad += !ok;
		*runs += ok ? files[i].nvariants : 0;
	}
	return bad;
}

static int cmd_check(int argc, char **argv)
{
	paths p = { 0 };
	scn_file *files;
	int bad, runs = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_check, stdout);
			return 0;
		}
		if (collect(&p, argv[i]) < 0) {
			paths_free(&p);
			return 2;
		}
	}
	if (p.n == 0) {
		fputs(usage_check, stderr);
		return 2;
	}
	files = calloc((size_t)p.n, sizeof(*files));
	bad = files ? load_all(&p, files, &runs) : p.n;
	for (int i = 0; files && i < p.n; i++)
		scn_file_free(&files[i]);
	free(files);
	printf("%d file%s checked (%d run%s), %d with errors\n", p.n, p.n == 1 ? "" : "s", runs, runs == 1 ? "" : "s",
	       bad);
	paths_free(&p);
	return bad ? 2 : 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "seed", required_argument, NULL, 's' }, { "pcap", required_argument, NULL, 'p' },
		{ "junit", required_argument, NULL, 'j' }, { "json", required_argument, NULL, 'J' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "live", no_argument, NULL, 'L' }, { "live-slot", required_argument, NULL, 'S' },
		{ "live-max", required_argument, NULL, 'M' }, { "proxy", required_argument, NULL, 'P' },
		{ "softswitch", required_argument, NULL, 'W' }, { "softswitch-listen", required_argument, NULL, 'l' },
		{ "netns", optional_argument, NULL, 'N' }, { "nat-kind", required_argument, NULL, 'K' },
		{ "dash", no_argument, NULL, 'D' }, { "speed", required_argument, NULL, 'X' },
		{ "paused", no_argument, NULL, 'Z' }, { NULL, 0, NULL, 0 },
	};
	scn_opts o = { .live_slot = 100, .live_max = TV_SEC(60) };
	const char *junit = NULL, *json = NULL, *netns = NULL;
	bool dash = false, dash_paused = false;
	double dash_speed = 1;
	paths p = { 0 };
	scn_file *files = NULL;
	scn_result *rs = NULL;
	int ch, rc = 0, failed = 0, runs = 0, nr = 0;
	bool tty = isatty(STDERR_FILENO);

	optind = 1;
	while ((ch = getopt_long(argc, argv, "vh", lopts, NULL)) != -1) {
		switch (ch) {
		case 's': {
			char *end;
			errno = 0;
			o.seed = strtoull(optarg, &end, 0);
			if (*end || errno) {
				fprintf(stderr, "traverse run: --seed: '%s' is not a number\n", optarg);
				return 2;
			}
			o.seed_set = true;
			break;
		}
		case 'p': o.pcap_dir = optarg; break;
		case 'D': dash = true; break;
		case 'Z': dash_paused = true; break;
		case 'X': {
			char *end;
			dash_speed = strtod(optarg, &end);
			if (*end || !(dash_speed >= 0.1 && dash_speed <= 1000)) {
				fprintf(stderr, "traverse run: --speed: '%s' (0.1 to 1000)\n", optarg);
				return 2;
			}
			break;
		}
		case 'j': junit = optarg; break;
		case 'J': json = optarg; break;
		case 'v': o.verbose++; break;
		case 'L': o.live = true; break;
		case 'S': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 254) {
				fprintf(stderr, "traverse run: --live-slot: 1-254 (the run uses 127.SLOT.0.0/16)\n");
				return 2;
			}
			o.live_slot = (int)v;
			break;
		}
		case 'P':
		case 'W':
		case 'l': {
			tv_ep *e = ch == 'P' ? &o.ext_proxy : ch == 'W' ? &o.ext_softswitch : &o.ss_listen;
			if (tv_ep_parse(optarg, e, false) < 0 || !e->port || !e->ip.v4) {
				fprintf(stderr, "traverse run: --%s: ADDRESS:PORT, got '%s'\n",
					ch == 'P' ? "proxy" : ch == 'W' ? "softswitch" : "softswitch-listen", optarg);
				return 2;
			}
			o.live = true;
			break;
		}
		case 'M':
			if (tv_time_parse(optarg, &o.live_max) < 0) {
				fprintf(stderr, "traverse run: --live-max: '%s' is not a duration\n", optarg);
				return 2;
			}
			break;
		case 'N':
			o.netns = o.live = true;
			netns = optarg;
			break;
		case 'K':
			if (!strcmp(optarg, "linux"))
				o.nat_kind = 1;
			else if (!strcmp(optarg, "linux-random"))
				o.nat_kind = 2;
			else if (strcmp(optarg, "sim")) {
				fprintf(stderr, "traverse run: --nat-kind: sim, linux or linux-random, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': fputs(usage_run, stdout); return 0;
		default: fputs(usage_run, stderr); return 2;
		}
	}
	if (o.nat_kind && !o.netns) {
		fprintf(stderr, "traverse run: --nat-kind=linux needs --netns (the kernel's NAT lives in a namespace)\n");
		return 2;
	}
	if (o.netns) {
		char err[300];
		if (netns_enter(netns, err, sizeof(err)) < 0) {
			fprintf(stderr, "traverse run: --netns: %s\n", err);
			return 2;
		}
	}
	if (o.ext_proxy.port && !o.ss_listen.port && !o.netns)
		o.ss_listen = tv_ep4(0x7f000003, 5060);
	if (dash && (o.live || o.ext_proxy.port || o.ext_softswitch.port)) {
		fprintf(stderr, "traverse run: --dash runs in simulation only (to watch a live proxy: traverse dash --attach)\n");
		return 2;
	}
	if (o.ext_proxy.port && o.ext_softswitch.port) {
		fprintf(stderr, "traverse run: --proxy and --softswitch together leave nothing of the core to simulate\n");
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (collect(&p, argv[i]) < 0)
			rc = 2;
	if (rc || p.n == 0) {
		if (!rc)
			fputs(usage_run, stderr);
		paths_free(&p);
		return 2;
	}
	files = calloc((size_t)p.n, sizeof(*files));
	if (!files) {
		rc = 2;
		goto out;
	}
	if (load_all(&p, files, &runs) > 0) {
		fprintf(stderr, "traverse run: errors in scenario files; nothing was run\n");
		rc = 2;
		goto out;
	}
	rs = calloc((size_t)runs, sizeof(*rs));
	if (!rs) {
		rc = 2;
		goto out;
	}
	if (o.pcap_dir && mkdir(o.pcap_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "traverse run: --pcap %s: %s\n", o.pcap_dir, strerror(errno));
		rc = 2;
		goto out;
	}
	if (dash) {
		o.watch = dash_sim_open(dash_speed, dash_paused);
		if (!o.watch) {
			fprintf(stderr, "traverse run: --dash needs a terminal\n");
			rc = 2;
			goto out;
		}
		tty = false;
	}
	for (int i = 0; i < p.n; i++) {
		for (int k = 0; k < files[i].nvariants; k++, nr++) {
			if (tty && !o.verbose)
				fprintf(stderr, "\r\033[K[%d/%d] %s %s", nr + 1, runs, p.v[i], files[i].variant_name);
			files[i].live = o.live;
			if (scn_select(&files[i], k) < 0 || scn_run(&files[i], &o, &rs[nr]) < 0) {
				rs[nr].passed = false;
				rs[nr].path = files[i].path;
			}
			failed += !rs[nr].passed;
			if (dash)
				dash_sim_done(&rs[nr]);
		}
	}
	if (dash)
		dash_sim_close();
	if (tty && !o.verbose)
		fprintf(stderr, "\r\033[K");
	report_text(stdout, rs, nr);
	rc = failed ? 1 : 0;
	if (junit && report_junit(junit, rs, nr) < 0) {
		fprintf(stderr, "traverse run: cannot write %s\n", junit);
		rc = 2;
	}
	if (json && report_json(json, rs, nr) < 0) {
		fprintf(stderr, "traverse run: cannot write %s\n", json);
		rc = 2;
	}
out:
	for (int i = 0; rs && i < nr; i++)
		scn_result_free(&rs[i]);
	for (int i = 0; files && i < p.n; i++)
		scn_file_free(&files[i]);
	free(rs);
	free(files);
	paths_free(&p);
	return rc;
}

/* libosip2 prints a line with the wall-clock time for every message it
 * cannot parse; Traverse counts those drops itself, so keep stderr for
 * what the user asked about. */
static void osip_quiet(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap)
{
	(void)fi;
	(void)li;
	(void)level;
	(void)chfr;
	(void)ap;
}

int main(int argc, char **argv)
{
	osip_trace_initialize_func(END_TRACE_LEVEL, osip_quiet);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_main, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return cmd_ctl(argc - 1, argv + 1);
	if (!strcmp(argv[1], "dash"))
		return cmd_dash(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help")) {
		if (argc > 2 && !strcmp(argv[2], "run"))
			fputs(usage_run, stdout);
		else if (argc > 2 && !strcmp(argv[2], "check"))
			fputs(usage_check, stdout);
		else if (argc > 2 && !strcmp(argv[2], "ctl"))
			fputs(ctl_usage, stdout);
		else if (argc > 2 && !strcmp(argv[2], "dash"))
			fputs(dash_usage, stdout);
		else
			fputs(usage_main, stdout);
		return 0;
	}
	fprintf(stderr, "traverse: unknown command '%s'\n\n%s", argv[1], usage_main);
	return 2;
}
