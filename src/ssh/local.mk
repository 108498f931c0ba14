# src/ssh: sources, tests and data of this layer (included by Makefile.am).
# libssh2 is used here and nowhere else.
libfanout_a_SOURCES += \
	src/ssh/session.c src/ssh/session.h src/ssh/session-int.h \
	src/ssh/jump.c \
	src/ssh/exec.c \
	src/ssh/tar.c src/ssh/tar.h \
	src/ssh/tree.c src/ssh/tree.h \
	src/ssh/upload.c src/ssh/upload.h \
	src/ssh/remote.c src/ssh/remote.h src/ssh/remote-int.h \
	src/ssh/remote-worker.c src/ssh/remote-store.c \
	src/ssh/remote-setup.c

TEMPLATE_FILES += templates/bastion-setup.sh

# The driver the shell tests call; run alone it prints a TAP skip.
check_PROGRAMS += tests/ssh-driver tests/unit/test-ssh-tree
tests_ssh_driver_LDADD = $(TEST_LIBS)
tests_unit_test_ssh_tree_LDADD = $(TEST_LIBS)

TESTS += tests/integration/ssh-run-host.sh \
	tests/integration/setup-host.sh \
	tests/integration/setup-cloud.sh \
	tests/integration/setup-slurm.sh \
	tests/integration/ssh-scripts.sh \
	tests/integration/ssh-connect.sh \
	tests/integration/ssh-upload.sh \
	tests/integration/ssh-resume.sh \
	tests/integration/ssh-run.sh \
	tests/integration/ssh-worker.sh \
	tests/integration/ssh-pool.sh \
	tests/integration/ssh-jump.sh

EXTRA_DIST += tests/integration/ssh-run-host.sh \
	tests/integration/lib-setup.sh tests/integration/setup-host.sh \
	tests/integration/setup-cloud.sh \
	tests/integration/setup-slurm.sh \
	tests/integration/ssh-jump.sh \
	tests/integration/ssh-worker.sh \
	tests/integration/ssh-pool.sh \
	bench/remote-pool.sh \
	tests/integration/lib-sshd.sh \
	tests/integration/ssh-scripts.sh \
	tests/integration/ssh-connect.sh \
	tests/integration/ssh-upload.sh \
	tests/integration/ssh-resume.sh \
	tests/integration/ssh-run.sh \
	bench/upload.sh bench/lib-bench.sh

# A host whose disk fills, and one whose login shell prints text.
TESTS += tests/integration/ssh-disk-full.sh tests/integration/ssh-chatty.sh
EXTRA_DIST += tests/integration/ssh-disk-full.sh tests/integration/ssh-chatty.sh

# Idle stop: the watcher the host set-up starts (issue 11, ops).
libfanout_a_SOURCES += src/ssh/idle.c
TEMPLATE_FILES += templates/idle-stop.sh
