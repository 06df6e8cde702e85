/* test_nat_opts.c - the NAT's options by name (simnat/nat_opts.c), shared
 * by the scenario `nat` statement and traverse-nat, and traverse-nat's
 * command line (natd/args.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "nat.h"
#include "natd.h"

static nat_cfg cfg;
static char err[300];

static void setup(void) { nat_cfg_default(&cfg); err[0] = '\0'; }

static int set(const char *k, const char *v) { return nat_cfg_set(&cfg, k, v, err, sizeof(err)); }

Test(nat_opts, every_key_is_taken_and_lands_in_its_field, .init = setup)
{
	cr_assert_eq(set("mapping", "apdm"), 0);
	cr_assert_eq(cfg.mapping, NAT_APD);
	cr_assert_eq(set("filtering", "adf"), 0);
	cr_assert_eq(cfg.filtering, NAT_AD);
	cr_assert_eq(set("mapping", "endpoint-independent"), 0, "the long names serve both");
	cr_assert_eq(cfg.mapping, NAT_EI);
	cr_assert_eq(set("ports", "random"), 0);
	cr_assert_eq(cfg.ports, NAT_PORT_RANDOM);
	cr_assert_eq(set("pool", "arbitrary"), 0);
	cr_assert_eq(cfg.pool, NAT_POOL_ARBITRARY);
	cr_assert_eq(set("refresh", "both"), 0);
	cr_assert_eq(cfg.refresh, NAT_REFRESH_BOTH);
	cr_assert_eq(set("parity", "on"), 0);
	cr_assert(cfg.parity);
	cr_assert_eq(set("hairpin", "off"), 0);
	cr_assert_not(cfg.hairpin);
	cr_assert_eq(set("udp-timeout", "30s"), 0);
	cr_assert_eq(cfg.udp_timeout, TV_SEC(30));
	cr_assert_eq(set("udp-stream-timeout", "3min"), 0);
	cr_assert_eq(cfg.udp_stream_timeout, TV_SEC(180));
	cr_assert_eq(set("tcp-established", "2h"), 0);
	cr_assert_eq(cfg.tcp_established, TV_SEC(7200));
	cr_assert_eq(set("tcp-transitory", "250ms"), 0);
	cr_assert_eq(cfg.tcp_transitory, TV_MS(250));
	cr_assert_eq(set("max-bindings", "7"), 0);
	cr_assert_eq(cfg.max_bindings, 7);
	cr_assert_eq(set("port-range", "2000-2999"), 0);
	cr_assert_eq(cfg.port_lo, 2000);
	cr_assert_eq(cfg.port_hi, 2999);
	cr_assert_eq(set("udp", "openwrt"), 0);
	cr_assert_eq(cfg.udp_timeout, TV_SEC(60));
	cr_assert_eq(cfg.udp_stream_timeout, TV_SEC(180));
	/* every listed key is one nat_cfg_set knows */
	for (const char *const *k = nat_cfg_keys(); *k; k++)
		cr_assert_neq(set(*k, ""), TV_ENOENT, "listed key %s unknown to nat_cfg_set", *k);
}

Test(nat_opts, bad_values_say_what_was_expected_and_change_nothing, .init = setup)
{
	nat_cfg before = cfg;

	cr_assert_eq(set("mapping", "eif"), TV_EINVAL, "a filtering spelling is not a mapping");
	cr_assert_str_eq(err, "mapping: 'eif' (expected eim, adm or apdm)");
	cr_assert_eq(set("filtering", "eim"), TV_EINVAL);
	cr_assert_str_eq(err, "filtering: 'eim' (expected eif, adf or apdf)");
	cr_assert_eq(set("ports", "odd"), TV_EINVAL);
	cr_assert_str_eq(err, "ports: unknown value 'odd' (expected one of: preserve, sequential, random)");
	cr_assert_eq(set("hairpin", "maybe"), TV_EINVAL);
	cr_assert_str_eq(err, "hairpin: expected on or off, got 'maybe'");
	cr_assert_eq(set("udp-timeout", "soon"), TV_EINVAL);
	cr_assert_str_eq(err, "udp-timeout: 'soon' is not a duration (e.g. 30s, 250ms, 2h, 4min)");
	cr_assert_eq(set("udp", "bsd"), TV_EINVAL);
	cr_assert_str_eq(err, "udp: unknown preset 'bsd' (expected linux, openwrt or rfc4787)");
	cr_assert_eq(set("max-bindings", "-1"), TV_EINVAL);
	cr_assert_str_eq(err, "max-bindings: '-1' is not a non-negative integer");
	cr_assert_eq(set("port-range", "3000-2000"), TV_EINVAL);
	cr_assert_str_eq(err, "port-range: expected LO-HI within 1-65535, got '3000-2000'");
	cr_assert_eq(set("port-range", "0-10"), TV_EINVAL);
	cr_assert_eq(set("maping", "eim"), TV_ENOENT);
	cr_assert(strstr(err, "unknown NAT option 'maping' (expected one of: mapping, filtering,"), "%s", err);
	cr_assert_eq(memcmp(&before, &cfg, sizeof(cfg)), 0, "a refused value changed the configuration");
}

Test(nat_opts, the_udp_preset_goes_first_wherever_it_is_written, .init = setup)
{
	const char *k[] = { "udp-timeout", "udp", "mapping" }, *v[] = { "10s", "linux", "adm" };

	cr_assert_eq(nat_cfg_set_many(&cfg, 3, k, v, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.udp_timeout, TV_SEC(10), "the explicit timeout must win over the preset");
	cr_assert_eq(cfg.udp_stream_timeout, TV_SEC(120), "the preset's stream timeout");
	cr_assert_eq(cfg.mapping, NAT_AD);
}

Test(nat_opts, set_many_stops_at_the_first_error, .init = setup)
{
	const char *k[] = { "mapping", "filtering", "hairpin" }, *v[] = { "adm", "none", "off" };

	cr_assert_eq(nat_cfg_set_many(&cfg, 3, k, v, err, sizeof(err)), TV_EINVAL);
	cr_assert_str_eq(err, "filtering: 'none' (expected eif, adf or apdf)");
	cr_assert(cfg.hairpin, "options after the bad one were applied");
}

/* ---- traverse-nat's command line ---------------------------------------- */

static natd_args a;

#define ARGV(...) ((char *[]){ "traverse-nat", __VA_ARGS__, NULL })
/* argv up to its NULL. */
static int parse(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return natd_args_parse(&a, argc, argv, err, sizeof(err));
}

Test(natd_args, the_usage_sketch_parses_with_the_scenario_options)
{
	char **v = ARGV("--inside-ns", "home", "--outside-ns=wan", "--inside-addr", "192.168.1.1",
			"--outside-addr", "203.0.113.10,203.0.113.11", "mapping=adm", "filtering=apdf",
			"ports=random", "hairpin=off", "udp-timeout=30s", "--seed", "7");

	cr_assert_eq(parse(v), NATD_ARGS_OK, "%s", err);
	cr_assert_str_eq(a.inside_ns, "home");
	cr_assert_str_eq(a.outside_ns, "wan");
	cr_assert_eq(a.inside_addr.v4, 0xc0a80101u);
	cr_assert_eq(a.inside_host.v4, 0xc0a80102u, "the inside host defaults to the NAT's address + 1");
	cr_assert_eq(a.cfg.npub, 2);
	cr_assert_eq(a.cfg.pub[1].v4, 0xcb00710bu);
	cr_assert_eq(a.cfg.mapping, NAT_AD);
	cr_assert_eq(a.cfg.filtering, NAT_APD);
	cr_assert_eq(a.cfg.ports, NAT_PORT_RANDOM);
	cr_assert_not(a.cfg.hairpin);
	cr_assert_eq(a.cfg.udp_timeout, TV_SEC(30));
	cr_assert_eq(a.seed, 7);
	cr_assert_str_eq(a.inside_dev, "tvnat%d");
}

Test(natd_args, defaults_are_the_engines)
{
	char **v = ARGV("--inside-ns", "a", "--outside-ns", "b", "--inside-addr", "10.0.0.1", "--inside-host",
			"10.0.0.9", "--outside-addr", "198.51.100.1");
	nat_cfg d;

	nat_cfg_default(&d);
	cr_assert_eq(parse(v), NATD_ARGS_OK, "%s", err);
	cr_assert_eq(a.inside_host.v4, 0x0a000009u);
	cr_assert_eq(a.cfg.mapping, d.mapping);
	cr_assert_eq(a.cfg.filtering, d.filtering);
	cr_assert_eq(a.cfg.udp_timeout, d.udp_timeout);
	cr_assert_eq(a.cfg.hairpin, d.hairpin);
}

Test(natd_args, help_is_not_an_error)
{
	cr_assert_eq(parse(ARGV("--help")), NATD_ARGS_HELP);
	cr_assert(strstr(natd_usage(), "mapping=eim|adm|apdm"));
}

Test(natd_args, bad_command_lines_are_refused_with_a_reason)
{
	static const struct { const char *arg[6]; const char *msg; } cases[] = {
		{ { "filtering=eim" }, "filtering: 'eim' (expected eif, adf or apdf)" },
		{ { "maping=eim" }, "unknown NAT option 'maping'" },
		{ { "mapping=adm", "mapping=eim" }, "option 'mapping' given twice" },
		{ { "--outside" }, "unknown option '--outside'" },
		{ { "--seed" }, "--seed needs a value" },
		{ { "--seed", "x" }, "--seed: 'x' is not" },
		{ { "eim" }, "expected key=value or --flag, got 'eim'" },
		{ { "--inside-dev", "a/b" }, "--inside-dev: 'a/b' is not a device name" },
		{ { "--inside-host", "10.0.0.1" }, "--inside-host must differ from --inside-addr" },
	};
	char *base[] = { "traverse-nat", "--inside-ns", "a", "--outside-ns", "b", "--inside-addr", "10.0.0.1",
			 "--outside-addr", "198.51.100.1" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *v[20];
		int n = 0;
		for (size_t j = 0; j < sizeof(base) / sizeof(base[0]); j++)
			v[n++] = base[j];
		for (int j = 0; cases[i].arg[j]; j++)
			v[n++] = (char *)cases[i].arg[j];
		v[n] = NULL;
		err[0] = '\0';
		cr_assert_eq(parse(v), NATD_ARGS_BAD, "case %zu accepted", i);
		cr_assert(strstr(err, cases[i].msg), "case %zu: '%s' (want '%s')", i, err, cases[i].msg);
	}
}

Test(natd_args, the_four_places_are_required)
{
	cr_assert_eq(parse(ARGV("--inside-ns", "a", "--outside-ns", "b", "--inside-addr", "10.0.0.1")),
		     NATD_ARGS_BAD);
	cr_assert(strstr(err, "needs --inside-ns, --outside-ns, --inside-addr and --outside-addr"), "%s", err);
	cr_assert_eq(parse(ARGV("--inside-ns", "a", "--outside-ns", "a", "--inside-addr", "10.0.0.1",
				"--outside-addr", "198.51.100.1")), NATD_ARGS_BAD);
	cr_assert(strstr(err, "must be different namespaces"), "%s", err);
	cr_assert_eq(parse(ARGV("--inside-ns", "a", "--outside-ns", "b", "--inside-addr", "10.0.0.1",
				"--outside-addr", "198.51.100.1,198.51.100.1")), NATD_ARGS_BAD);
	cr_assert(strstr(err, "given twice"), "%s", err);
	cr_assert_eq(parse(ARGV("--inside-ns", "a", "--outside-ns", "b", "--inside-addr", "10.0.0.254",
				"--outside-addr", "198.51.100.1")), NATD_ARGS_BAD, "10.0.0.255 is no host");
}
