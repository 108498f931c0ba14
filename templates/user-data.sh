#!/bin/sh
# fanout bastion start-up (cloud-init user-data). Filled in by fanout:
# @RUN_SET@ is the run-set id, @PROJECT@ the project name. No credentials
# are ever put here: the bastion gets none of the user's keys.
set -eu
echo "fanout bastion of run set @RUN_SET@ (project @PROJECT@)" >/etc/motd
mkdir -p /home/ec2-user/fanout
chown ec2-user:ec2-user /home/ec2-user/fanout
# Tools the run needs (rsync for uploads); tolerate a slow mirror.
dnf -y -q install rsync tar gzip >/dev/null 2>&1 || true
touch /var/lib/fanout-ready
