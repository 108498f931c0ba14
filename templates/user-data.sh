#!/bin/sh
# fanout bastion start-up (cloud-init user-data). Filled in by fanout:
# @RUN_SET@ is the run-set id, @PROJECT@ the project name, @USER@ the
# image's login user (ec2-user on Amazon Linux, admin on Debian). No
# credentials are ever put here: the bastion gets none of the user's keys.
set -eu
echo "fanout bastion of run set @RUN_SET@ (project @PROJECT@)" >/etc/motd
mkdir -p /home/@USER@/fanout
chown @USER@:@USER@ /home/@USER@/fanout
# Tools the run needs (rsync for uploads); tolerate a slow mirror.
if command -v dnf >/dev/null 2>&1; then
	dnf -y -q install rsync tar gzip >/dev/null 2>&1 || true
elif command -v apt-get >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null 2>&1 &&
	DEBIAN_FRONTEND=noninteractive apt-get -qq -y install rsync tar \
	    gzip >/dev/null 2>&1 || true
fi
touch /var/lib/fanout-ready
