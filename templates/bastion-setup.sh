#!/bin/sh
# fanout's bastion set-up, run over SSH as `sh -s -- DIR < bastion-setup.sh`
# before every upload. Idempotent: the first run checks (and on a fresh
# Amazon Linux or Debian VM, installs) the tools the upload and the
# download need and leaves a stamp; later runs see the stamp and return at
# once. The tasks themselves need nothing here: fanout-worker (uploaded or
# built by fanout) runs them, after the project's own setup: (a venv and
# its packages, say). For that one, a Python 3 without its venv module
# (Debian's python3-venv: `python3 -m venv` fails without it, and PEP 668
# refuses `pip install --user` outside a venv) gets it when this user may
# install packages; failing that, nothing here fails.
set -eu

dir=${1:-fanout}
version=1
stamp="$dir/.setup-$version"

if [ -f "$stamp" ]; then
	echo "bastion set up already ($stamp)"
	exit 0
fi

mkdir -p "$dir"

# Installs missing packages when this user may (root, or sudo without a
# password); otherwise the check below names what is missing.
install() {
	sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || return 0
		sudo="sudo -n"
	fi
	if command -v dnf >/dev/null 2>&1; then
		$sudo dnf install -y -q "$@" || true
	elif command -v apt-get >/dev/null 2>&1; then
		$sudo apt-get install -y -qq "$@" || true
	fi
}

tools="tar find uname"
missing=
for tool in $tools; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	install tar findutils coreutils
	missing=
	for tool in $tools; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
fi
if [ -n "$missing" ]; then
	echo "the bastion lacks:$missing; install them and run again" >&2
	exit 1
fi

if command -v python3 >/dev/null 2>&1 &&
    ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
	install python3-venv
	if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1 &&
	    command -v apt-get >/dev/null 2>&1; then
		# A fresh image may have no package lists yet.
		{ [ "$(id -u)" = 0 ] && apt-get update -qq ||
		    sudo -n apt-get update -qq; } >/dev/null 2>&1 || true
		install python3-venv
	fi
fi

date +%s >"$stamp"
echo "bastion set up ($stamp)"
