#!/bin/sh
# fanout's bastion set-up, run over SSH as `sh -s -- DIR < bastion-setup.sh`
# before every upload. Idempotent: the first run checks (and on a fresh
# Amazon Linux or Debian VM, installs) the tools the harness needs and
# leaves a stamp; later runs see the stamp and return at once.
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

missing=
for tool in tar xargs timeout setsid date hostname awk sed; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	install tar findutils coreutils util-linux hostname gawk sed
	missing=
	for tool in tar xargs timeout setsid date hostname awk sed; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
fi
if [ -n "$missing" ]; then
	echo "the bastion lacks:$missing; install them and run again" >&2
	exit 1
fi
case $(date +%N) in
*N*)
	echo "date has no %N (GNU coreutils needed)" >&2
	exit 1
	;;
esac
if command -v python3 >/dev/null 2>&1; then
	echo "results checked with python3"
elif command -v jq >/dev/null 2>&1; then
	echo "results checked with jq"
else
	echo "no python3 or jq: results are checked by their braces only"
fi

date +%s >"$stamp"
echo "bastion set up ($stamp)"
