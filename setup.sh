#!/bin/sh
# One entry point for a new machine (Debian 12):
#   ./setup.sh          install what is missing, build, run examples/sleep
#   ./setup.sh check    install what is missing, build, run the tests
#   ./setup.sh deps     only install the Debian packages
set -eu
cd "$(dirname "$0")"

# Build and library packages, then what the tests use (real servers:
# tmux, OpenSSH sshd, Slurm and munge daemons in network namespaces; GNU
# parallel and rsync for the benchmarks).
PACKAGES="build-essential autoconf automake pkg-config
	libncurses-dev libcurl4-openssl-dev libjansson-dev libssh2-1-dev
	libyaml-dev libxml2-dev libssl-dev libcairo2-dev libfontconfig-dev
	tmux openssh-server openssh-client rsync parallel shellcheck valgrind
	python3 procps time linux-perf iproute2 slurm-wlm slurm-client munge"

deps() {
	missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "setup: installing$missing"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
}

build() {
	[ -x configure ] || ./autogen.sh
	[ -f Makefile ] || ./configure --enable-werror
	make -j"$(nproc)"
}

case "${1:-run}" in
deps)
	deps
	;;
run)
	deps
	build
	./fanout run --local examples/sleep
	;;
check)
	deps
	build
	make -j"$(nproc)" check
	;;
*)
	echo "usage: ./setup.sh [run|check|deps]" >&2
	exit 2
	;;
esac
