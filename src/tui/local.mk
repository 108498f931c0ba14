# src/tui: sources, tests and data of this layer (included by Makefile.am).
# The TUI is part of the fanout binary only, never of libfanout.a; the
# questions (menus/*.yaml) are core, shared with the command line.
libfanout_a_SOURCES += src/wizard/questions.c src/wizard/questions.h \
	src/wizard/answers.c

fanout_SOURCES += src/tui/tui.c src/tui/tui.h src/tui/tui-int.h \
	src/tui/tui-draw.c src/tui/tui-sink.c src/tui/tui-job.c \
	src/tui/screen-menu.c src/tui/screen-form.c \
	src/tui/screen-confirm.c src/tui/screen-progress.c \
	src/tui/screen-results.c src/tui/screen-history.c \
	src/tui/screen-text.c src/tui/screen-wait.c
fanout_LDADD += $(NCURSES_LIBS)

MENU_FILES += menus/main.yaml menus/create.yaml menus/local.yaml

check_PROGRAMS += tests/unit/test-questions
tests_unit_test_questions_LDADD = $(TEST_LIBS)

TESTS += tests/integration/tui-menu.sh \
	tests/integration/tui-local.sh \
	tests/integration/tui-create.sh \
	tests/integration/tui-cloud.sh \
	tests/integration/tui-cancel.sh \
	tests/integration/tui-history.sh \
	tests/integration/tui-keep.sh \
	tests/integration/tui-steps.sh \
	tests/integration/tui-network.sh \
	tests/integration/tui-cluster.sh
EXTRA_DIST += tests/integration/lib-tmux.sh \
	bench/tui-startup.py \
	tests/integration/tui-menu.sh \
	tests/integration/tui-local.sh \
	tests/integration/tui-create.sh \
	tests/integration/tui-cloud.sh \
	tests/integration/tui-cancel.sh \
	tests/integration/tui-history.sh \
	tests/integration/tui-keep.sh \
	tests/integration/tui-steps.sh \
	tests/integration/tui-network.sh \
	tests/integration/tui-cluster.sh \
	docs/tui.md

# The wizard's side of the GCP provider: the zone question, the refusals
# made before anything, orphans across providers (command line); the
# create from the menu with provider gcp (tmux).
TESTS += tests/integration/gcp-wizard.sh tests/integration/tui-gcp.sh
EXTRA_DIST += tests/integration/gcp-wizard.sh tests/integration/tui-gcp.sh
