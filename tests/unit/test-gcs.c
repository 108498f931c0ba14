/* The run set's service account id (gcp-role.c): IAM's rules, 6 to 30
 * characters of [a-z][a-z0-9-]*[a-z0-9], from any run-set id. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/gcp-role.h"
#include "tap.h"

/* Whether s is a valid IAM account id. */
static int
valid(const char *s)
{
	regex_t re;
	int ok;

	regcomp(&re, "^[a-z][-a-z0-9]*[a-z0-9]$", REG_EXTENDED | REG_NOSUB);
	ok = regexec(&re, s, 0, NULL, 0) == 0 && strlen(s) >= 6 &&
	    strlen(s) <= 30;
	regfree(&re);
	return ok;
}

int
main(void)
{
	static const char *const ids[] = { "fo-20261130-abcd",
	    "FO-20261130-ABCD", "fo-20261130-a_b.", "fo-2026113012345678-x-",
	    "x", NULL };
	char *s;
	size_t i;

	plan_lazy();
	s = gcp_role_account_id("fo-20261130-abcd");
	is_string("fanout-fo-20261130-abcd", s, "a run-set id: fanout-<id>");
	free(s);
	s = gcp_role_account_id("fo-2026113012345678-abcdefghij");
	is_string("fanout-fo-2026113012345678-abc", s,
	    "a long id is cut to 30 characters");
	free(s);
	for (i = 0; ids[i] != NULL; i++) {
		s = gcp_role_account_id(ids[i]);
		ok(valid(s), "'%s' gives a valid account id ('%s')", ids[i], s);
		free(s);
	}
	return done_testing();
}
