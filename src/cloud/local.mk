# src/cloud and src/wizard: sources, tests and data of the cloud layer
# (included by Makefile.am).
libfanout_a_SOURCES += \
	src/cloud/http.c src/cloud/http.h \
	src/cloud/xml.c src/cloud/xml.h \
	src/cloud/aws.c src/cloud/aws.h \
	src/cloud/s3.c src/cloud/s3-store.c src/cloud/s3.h \
	src/cloud/iam.c src/cloud/iam.h src/cloud/aws-role.c \
	src/cloud/ec2.c src/cloud/ec2.h \
	src/cloud/provider.c src/cloud/provider.h \
	src/cloud/aws-provider.c src/cloud/aws-steps.c src/cloud/aws-internal.h \
	src/wizard/wizard.h src/wizard/runner.c \
	src/wizard/flow-cloud.c src/wizard/flow-orphans.c \
	src/wizard/menu-hooks.c src/wizard/estimate.c \
	src/engine/bastion.c src/engine/slurm.c \
	src/engine/slurm-run.c src/engine/slurm-job.c src/engine/slurm-int.h

# Detached runs: the head's supervisor and teardown, S3 reads, fetch.
libfanout_a_SOURCES += src/cloud/detach-policy.c src/cloud/detach-policy.h \
	src/wizard/detach.c
fanout_SOURCES += src/cmd-fetch.c
TEMPLATE_FILES += templates/detach-supervise.sh templates/detach-teardown.sh
TESTS += tests/integration/detach.sh
EXTRA_DIST += tests/integration/detach.sh

TEMPLATE_FILES += templates/user-data.sh templates/s3-fetch.py \
	templates/s3-put.py templates/gcs-fetch.py templates/gcs-put.py

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
# On Google Cloud: the nodes, one insert each at once, and the cluster's
# internal firewall rule (gcp-fleet.c); end to end on namespace hosts.
libfanout_a_SOURCES += src/cloud/gcp-fleet.c
TESTS += tests/integration/gcp-cluster.sh
EXTRA_DIST += tests/integration/gcp-cluster.sh

# Google Cloud groundwork (issue 12): credentials, the REST client, the
# recording stand-in and gcloud's cross-checks. No provider table yet.
libfanout_a_SOURCES += src/cloud/gcp-auth.c src/cloud/gcp-auth.h \
	src/cloud/gcp.c src/cloud/gcp.h
# The GCP provider (issue 12): Compute Engine, the base and head blocks.
libfanout_a_SOURCES += src/cloud/gcp-internal.h src/cloud/gcp-provider.c \
	src/cloud/gcp-steps.c src/cloud/gcp-compute.c src/cloud/gcp-machine.c
TEMPLATE_FILES += data/gcp-prices.json
TESTS += tests/integration/gcp-create.sh tests/integration/gcp-machine.sh
check_PROGRAMS += tests/unit/test-gcp-provider
tests_unit_test_gcp_provider_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/integration/gcp-create.sh tests/integration/gcp-machine.sh
# Cloud Storage (gcs.c, gcp-store.c) and the machines' service account
# (gcp-role.c).
libfanout_a_SOURCES += src/cloud/gcs.c src/cloud/gcs.h \
	src/cloud/gcp-store.c src/cloud/gcp-role.c src/cloud/gcp-role.h
check_PROGRAMS += tests/gcp-driver tests/unit/test-gcp
tests_gcp_driver_LDADD = $(TEST_LIBS)
tests_unit_test_gcp_LDADD = $(TEST_LIBS)
TESTS += tests/integration/gcp-auth.sh \
	tests/integration/gcp-rest.sh tests/integration/gcp-gcloud.sh \
	tests/integration/gcp-faults.sh tests/integration/gcp-crash.sh \
	tests/integration/gcp-bad-input.sh tests/integration/gcp-crosscheck.sh
# Cloud Storage inputs and results (gcs.c, gcp-store.c), the machines'
# service account (gcp-role.c).
check_PROGRAMS += tests/unit/test-gcs
tests_unit_test_gcs_LDADD = $(TEST_LIBS)
TESTS += tests/integration/gcs-inputs.sh tests/integration/gcp-bucket.sh \
	tests/integration/gcp-iam-gcloud.sh
EXTRA_DIST += tests/integration/gcs-inputs.sh tests/integration/gcp-bucket.sh \
	tests/integration/gcp-iam-gcloud.sh \
	tests/fakes/gcp_fake_iam.py
EXTRA_DIST += tests/integration/lib-gcp.sh tests/integration/gcp-auth.sh \
	tests/integration/gcp-rest.sh tests/integration/gcp-gcloud.sh \
	tests/fakes/gcp_fake.py tests/fakes/gcloud-requests.txt \
	tests/integration/gcp-faults.sh tests/integration/gcp-crash.sh \
	tests/integration/gcp-bad-input.sh \
	tests/integration/lib-gcp-create.sh tests/fakes/killonlog.py \
	tests/integration/gcp-crosscheck.sh tests/fakes/gcloud-bodies.txt
# Machine size and spot: the price table (installed with the templates,
# in pkgdatadir/data), the type choice and the spot calls.
libfanout_a_SOURCES += src/cloud/aws-machine.c src/cloud/ec2-types.c \
	src/cloud/prices.c src/cloud/prices.h src/cloud/store.c src/cloud/store.h
TEMPLATE_FILES += data/aws-prices.json
TESTS += tests/integration/aws-machine.sh
EXTRA_DIST += tests/integration/aws-machine.sh
TESTS += tests/integration/aws-spot.sh
EXTRA_DIST += tests/integration/aws-spot.sh
# workers: defaults to the machine's CPUs (run --local, run --host).
TESTS += tests/integration/workers-default.sh
EXTRA_DIST += tests/integration/workers-default.sh
# Runs that survive a lost machine: a bastion lost mid-run finished by
# resume --unfinished; a slurm node whose instance is terminated.
TESTS += tests/integration/aws-bastion-loss.sh \
	tests/integration/slurm-spot-loss.sh
EXTRA_DIST += tests/integration/aws-bastion-loss.sh \
	tests/integration/slurm-spot-loss.sh
# Inputs and results in a bucket (s3.c), the instance role (iam.c).
TESTS += tests/integration/s3-inputs.sh tests/integration/s3-bastion.sh \
	tests/integration/s3-bad-input.sh tests/integration/s3-role.sh
EXTRA_DIST += tests/integration/s3-inputs.sh tests/integration/s3-bastion.sh \
	tests/integration/s3-bad-input.sh tests/integration/s3-role.sh \
	tests/fakes/imds.py
check_PROGRAMS += tests/unit/test-iam-policy
tests_unit_test_iam_policy_LDADD = $(TEST_LIBS)
# fanout ssh and logs from a run set's head; idle stop (issue 11, ops).
fanout_SOURCES += src/cmd-ssh.c src/cmd-ssh.h
libfanout_a_SOURCES += src/wizard/flow-power.c
TESTS += tests/integration/ops-ssh-logs.sh tests/integration/ops-idle-stop.sh
EXTRA_DIST += tests/integration/ops-ssh-logs.sh \
	tests/integration/ops-idle-stop.sh
