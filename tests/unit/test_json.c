/* test_json.c - the control socket's JSON writer (daemon/json.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "json.h"

Test(json, strings_are_escaped_and_fields_follow)
{
	jbuf j = { 0 };

	jb_raw(&j, "{");
	jb_key(&j, "user");
	jb_str(&j, "a\"b\\c\r\n\x01");
	jb_field(&j, "x", "y");
	jb_raw(&j, "}");
	cr_assert_str_eq(j.s, "{\"user\":\"a\\\"b\\\\c\\u000d\\u000a\\u0001\",\"x\":\"y\"}");
	jb_free(&j);
}

Test(json, formatted_output_is_never_cut)
{
	jbuf j = { 0 };
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	jb_fmt(&j, "[%s|%d]", big, 42);
	cr_assert_eq(j.len, strlen(big) + 5);
	cr_assert_eq(strncmp(j.s + j.len - 4, "|42]", 4), 0);
	cr_assert(!j.oom);
	jb_free(&j);
}
