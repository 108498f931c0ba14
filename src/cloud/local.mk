# src/cloud and src/wizard: sources, tests and data of the cloud layer
# (included by Makefile.am).
libfanout_a_SOURCES += \
	src/cloud/http.c src/cloud/http.h \
	src/cloud/xml.c src/cloud/xml.h \
	src/cloud/aws.c src/cloud/aws.h \
	src/cloud/ec2.c src/cloud/ec2.h \
	src/cloud/provider.c src/cloud/provider.h \
	src/cloud/aws-provider.c src/cloud/aws-steps.c src/cloud/aws-internal.h \
	src/wizard/wizard.h src/wizard/runner.c \
	src/wizard/flow-cloud.c src/wizard/flow-orphans.c \
	src/wizard/menu-hooks.c src/wizard/estimate.c \
	src/engine/bastion.c src/engine/slurm.c \
	src/engine/slurm-run.c src/engine/slurm-job.c src/engine/slurm-int.h

TEMPLATE_FILES += templates/user-data.sh

check_PROGRAMS += tests/slurm-driver
tests_slurm_driver_LDADD = $(TEST_LIBS)
# The slurm engine on lib-cluster.sh's hosts (Makefile.am).
TESTS += tests/integration/slurm-engine.sh \
	tests/integration/slurm-node-loss.sh tests/integration/slurm-e2e.sh \
	tests/integration/slurm-scale.sh
EXTRA_DIST += tests/integration/slurm-engine.sh \
	tests/integration/slurm-node-loss.sh tests/integration/slurm-e2e.sh \
	tests/integration/slurm-scale.sh

fanout_SOURCES += src/cmd-cloud.c src/cmd-cloud.h src/cmd-create.c \
	src/cmd-history.c src/cmd-status.c src/cmd-resume.c src/cmd-cleanup.c

TESTS += tests/integration/aws-create.sh tests/integration/aws-crash.sh \
	tests/integration/cloud-e2e.sh \
	tests/integration/aws-faults.sh tests/integration/aws-bad-input.sh \
	tests/integration/aws-defaults.sh \
	tests/integration/aws-waits.sh tests/integration/aws-orphans.sh \
	tests/integration/aws-concurrent.sh tests/integration/aws-cluster-cli.sh
EXTRA_DIST += tests/integration/lib-aws.sh tests/integration/aws-create.sh \
	tests/integration/aws-cluster-cli.sh \
	tests/integration/aws-defaults.sh \
	tests/integration/cloud-e2e.sh \
	tests/integration/aws-crash.sh tests/integration/aws-faults.sh \
	tests/integration/aws-bad-input.sh tests/integration/aws-waits.sh \
	tests/integration/aws-orphans.sh tests/integration/aws-concurrent.sh \
	tests/fakes/checkip.py \
	tests/fakes/faultproxy.py tests/fakes/killwhen.py
# The exit status of create and resume when tasks fail.
TESTS += tests/integration/cloud-exit.sh
EXTRA_DIST += tests/integration/cloud-exit.sh

check_PROGRAMS += tests/unit/test-aws-config tests/unit/test-aws-http \
	tests/unit/test-aws-steps tests/unit/test-history-journal \
	tests/unit/test-runner
tests_unit_test_aws_config_LDADD = $(TEST_LIBS)
tests_unit_test_aws_http_LDADD = $(TEST_LIBS)
tests_unit_test_aws_steps_LDADD = $(TEST_LIBS)
tests_unit_test_history_journal_LDADD = $(TEST_LIBS)
tests_unit_test_runner_LDADD = $(TEST_LIBS)

# Clusters: the fleet block (the compute nodes) and its EC2 calls.
libfanout_a_SOURCES += src/cloud/aws-fleet.c src/cloud/ec2-fleet.c
TESTS += tests/integration/aws-fleet.sh
EXTRA_DIST += tests/integration/aws-fleet.sh

# fanout ssh and logs from a run set's head; idle stop (issue 11, ops).
fanout_SOURCES += src/cmd-ssh.c src/cmd-ssh.h
libfanout_a_SOURCES += src/wizard/flow-power.c
TESTS += tests/integration/ops-ssh-logs.sh tests/integration/ops-idle-stop.sh
EXTRA_DIST += tests/integration/ops-ssh-logs.sh \
	tests/integration/ops-idle-stop.sh
