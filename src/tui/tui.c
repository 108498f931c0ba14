/* Placeholder until the menu lands (issue 3). */
#include <stdio.h>

#include "tui/tui.h"

int
tui_main(void)
{
	fputs("fanout: the menu is not built yet; use 'fanout run --local "
	    "PROJECT' (see fanout --help)\n", stderr);
	return 2;
}
