/* The ncurses front end: the only part of fanout that includes curses. */
#ifndef FANOUT_TUI_H
#define FANOUT_TUI_H

/* Runs the main menu until the user quits; returns the exit status. */
int	tui_main(void);

#endif
