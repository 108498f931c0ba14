# src/tui: sources, tests and data of this layer (included by Makefile.am).
# The TUI is part of the fanout binary only, never of libfanout.a.
fanout_SOURCES += src/tui/tui.c src/tui/tui.h
fanout_LDADD += $(NCURSES_LIBS)
