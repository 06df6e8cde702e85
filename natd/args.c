/* args.c - traverse-nat's command line: the namespaces and addresses as
 * --flags, the NAT's behaviour as the scenario `nat` statement's key=value
 * options (nat_cfg_set: one spelling and one message for both). Pure: no
 * I/O, so the unit tests run it. */
#include "natd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *natd_usage(void)
{
	return "usage: traverse-nat --inside-ns NS --outside-ns NS --inside-addr IP --outside-addr IP[,IP...]\n"
	       "                    [--inside-host IP] [--inside-dev NAME] [--outside-dev NAME] [--seed N] [-v]\n"
	       "                    [mapping=eim|adm|apdm] [filtering=eif|adf|apdf] [ports=preserve|sequential|random]\n"
	       "                    [parity=on|off] [pool=paired|arbitrary] [port-range=LO-HI] [udp=linux|openwrt|rfc4787]\n"
	       "                    [udp-timeout=D] [udp-stream-timeout=D] [tcp-established=D] [tcp-transitory=D]\n"
	       "                    [refresh=outbound|both] [hairpin=on|off] [max-bindings=N]\n"
	       "\n"
	       "Runs the simnat engine (the NAT of `traverse run`) as a transparent NAT between two\n"
	       "network namespaces, so that unmodified clients stand behind it. It makes a TUN device\n"
	       "in each (IFF_TUN, no packet info, MTU 65535):\n"
	       "  inside NS:  address --inside-host (default: --inside-addr + 1), peer --inside-addr,\n"
	       "              the default route;\n"
	       "  outside NS: a route to each --outside-addr (the NAT's public addresses), no address.\n"
	       "NS is a name under /run/netns (ip netns add NS) or a path to a namespace file.\n"
	       "The devices go when the process does. On SIGTERM or SIGINT it prints its counters\n"
	       "(packets each way, drops by reason, bindings) and exits 0; bad options exit 2.\n"
	       "The key=value options are those of the scenario `nat` statement (docs/scenarios.md);\n"
	       "the defaults are a Linux CPE's: mapping=eim filtering=apdf ports=preserve hairpin=on\n"
	       "udp-timeout=120s. --seed seeds port randomness (ports=random); default 1.\n";
}

static int bad(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return NATD_ARGS_BAD;
}

static int parse_ip4(const char *s, tv_ip *ip)
{
	return tv_ip_parse(s, ip) < 0 || ip->af != TV_AF_INET ? -1 : 0;
}

/* "IP[,IP...]" into cfg->pub. */
static int parse_pub(natd_args *a, const char *s, char *err, size_t errlen)
{
	char buf[NAT_MAX_PUB * 16 + 16];
	char *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return bad(err, errlen, "--outside-addr: too long: '%s'%s", s, "");
	snprintf(buf, sizeof(buf), "%s", s);
	a->cfg.npub = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (a->cfg.npub == NAT_MAX_PUB)
			return bad(err, errlen, "--outside-addr: at most 8 addresses, got '%s'%s", s, "");
		if (parse_ip4(t, &a->cfg.pub[a->cfg.npub]) < 0)
			return bad(err, errlen, "--outside-addr: '%s' is not an IPv4 address%s", t, "");
		for (int i = 0; i < a->cfg.npub; i++)
			if (tv_ip_eq(&a->cfg.pub[i], &a->cfg.pub[a->cfg.npub]))
				return bad(err, errlen, "--outside-addr: '%s' given twice%s", t, "");
		a->cfg.npub++;
	}
	if (!a->cfg.npub)
		return bad(err, errlen, "--outside-addr: expected IP[,IP...], got '%s'%s", s, "");
	return 0;
}

static const char *const flags[] = {
	"--inside-ns", "--outside-ns", "--inside-addr", "--outside-addr", "--inside-host",
	"--inside-dev", "--outside-dev", "--seed", NULL
};

/* The flag's value: "--flag=V" or "--flag V". */
static int flag_value(int argc, char **argv, int *i, const char **name, const char **val)
{
	const char *arg = argv[*i];

	for (int k = 0; flags[k]; k++) {
		size_t n = strlen(flags[k]);
		if (strncmp(arg, flags[k], n))
			continue;
		if (arg[n] == '=') {
			*name = flags[k];
			*val = arg + n + 1;
			return 0;
		}
		if (arg[n] == '\0') {
			*name = flags[k];
			if (*i + 1 >= argc)
				return -1;
			*val = argv[++*i];
			return 0;
		}
	}
	*name = NULL;
	return 0;
}

static int check_dev(const char *what, const char *v, char *err, size_t errlen)
{
	/* IFNAMSIZ is 16 with its NUL; a name may not contain '/' or blanks. */
	if (!v[0] || strlen(v) > 15 || strpbrk(v, "/ \t\n:"))
		return bad(err, errlen, "%s: '%s' is not a device name (1-15 characters, no '/', ':' or blanks)", what, v);
	return 0;
}

int natd_args_parse(natd_args *a, int argc, char **argv, char *err, size_t errlen)
{
	const char *key[NATD_MAX_OPTS], *val[NATD_MAX_OPTS];
	int nopt = 0, rc;
	bool have_in = false, have_host = false;

	memset(a, 0, sizeof(*a));
	nat_cfg_default(&a->cfg);
	a->inside_dev = a->outside_dev = "tvnat%d";
	a->seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *v;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return NATD_ARGS_HELP;
		if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			a->verbose = true;
			continue;
		}
		if (arg[0] == '-') {
			if (flag_value(argc, argv, &i, &name, &v) < 0)
				return bad(err, errlen, "%s needs a value%s", arg, "");
			if (!name)
				return bad(err, errlen, "unknown option '%s' (see --help)%s", arg, "");
			if (!strcmp(name, "--inside-ns") || !strcmp(name, "--outside-ns")) {
				if (!v[0])
					return bad(err, errlen, "%s: empty namespace name%s", name, "");
				if (!strchr(v, '/') && (strlen(v) > 200 || !strcmp(v, ".") || !strcmp(v, "..")))
					return bad(err, errlen, "%s: '%s' is not a namespace name", name, v);
				*(name[2] == 'i' ? &a->inside_ns : &a->outside_ns) = v;
			} else if (!strcmp(name, "--inside-addr")) {
				if (parse_ip4(v, &a->inside_addr) < 0)
					return bad(err, errlen, "--inside-addr: '%s' is not an IPv4 address%s", v, "");
				have_in = true;
			} else if (!strcmp(name, "--inside-host")) {
				if (parse_ip4(v, &a->inside_host) < 0)
					return bad(err, errlen, "--inside-host: '%s' is not an IPv4 address%s", v, "");
				have_host = true;
			} else if (!strcmp(name, "--outside-addr")) {
				if ((rc = parse_pub(a, v, err, errlen)) != 0)
					return rc;
			} else if (!strcmp(name, "--inside-dev") || !strcmp(name, "--outside-dev")) {
				if (check_dev(name, v, err, errlen))
					return NATD_ARGS_BAD;
				*(name[2] == 'i' ? &a->inside_dev : &a->outside_dev) = v;
			} else {        /* --seed */
				char *end;
				errno = 0;
				a->seed = strtoull(v, &end, 0);
				if (!v[0] || *end || errno || v[0] == '-')
					return bad(err, errlen, "--seed: '%s' is not a non-negative integer%s", v, "");
			}
			continue;
		}
		if (!strchr(arg, '=') || arg[0] == '=')
			return bad(err, errlen, "expected key=value or --flag, got '%s'%s", arg, "");
		if (nopt == NATD_MAX_OPTS)
			return bad(err, errlen, "too many options (at most 32)%s%s", "", "");
		for (int k = 0; k < nopt; k++)
			if (!strncmp(key[k], arg, (size_t)(strchr(arg, '=') - arg)) &&
			    strchr(key[k], '=') - key[k] == strchr(arg, '=') - arg) {
				snprintf(err, errlen, "option '%.*s' given twice", (int)(strchr(arg, '=') - arg), arg);
				return NATD_ARGS_BAD;
			}
		key[nopt] = arg;
		val[nopt++] = strchr(arg, '=') + 1;
	}
	if (!a->inside_ns || !a->outside_ns || !have_in || !a->cfg.npub)
		return bad(err, errlen, "needs --inside-ns, --outside-ns, --inside-addr and --outside-addr (see --help)%s%s",
			   "", "");
	if (!have_host) {
		uint32_t h = a->inside_addr.v4 + 1;
		if ((h & 0xff) == 0 || (h & 0xff) == 0xff)
			return bad(err, errlen, "--inside-host: give one (--inside-addr + 1 is not a host address)%s%s",
				   "", "");
		a->inside_host = tv_ip4(h);
	}
	if (tv_ip_eq(&a->inside_host, &a->inside_addr))
		return bad(err, errlen, "--inside-host must differ from --inside-addr%s%s", "", "");
	if (a->inside_ns && a->outside_ns && !strcmp(a->inside_ns, a->outside_ns))
		return bad(err, errlen, "--inside-ns and --outside-ns must be different namespaces ('%s')%s",
			   a->inside_ns, "");
	/* key=value: split on the first '=' (the scenario's spelling). */
	{
		char keys[NATD_MAX_OPTS][32];
		const char *kp[NATD_MAX_OPTS];
		for (int k = 0; k < nopt; k++) {
			size_t n = (size_t)(strchr(key[k], '=') - key[k]);
			if (n >= sizeof(keys[k]))
				n = sizeof(keys[k]) - 1;
			memcpy(keys[k], key[k], n);
			keys[k][n] = '\0';
			kp[k] = keys[k];
		}
		if (nat_cfg_set_many(&a->cfg, nopt, kp, val, err, errlen) < 0)
			return NATD_ARGS_BAD;
	}
	return NATD_ARGS_OK;
}
