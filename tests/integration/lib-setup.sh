# The project the setup-*.sh tests share. Source after lib.sh:
#   setup_project NAME N   makes $TEST_TMP/proj (in $p): inputs in/1.txt
#                          .. in/N.txt, requirements.txt, and task.sh, a
#                          shell script started as `sh ./task.sh --flag
#                          INPUT` (not executable, no #! line: only the
#                          command line can run it) whose result has its
#                          first and last words, their count, FANOUT_INPUT
#                          and $GREETING (env:)
#   setup_yaml SETUP ENTRY the project's fanout.yaml (SETUP as YAML text)
#   setup_results N        the results.csv rows the first N tasks give
#                          (header first)
SETUP_COUNTING='echo ran >>../setup-runs && echo "installing from requirements.txt" && cat requirements.txt'
SETUP_FAILING="'echo \"step one\"; echo \"no such package: zzz\" >&2; exit 4'"

setup_project() {
	p="$TEST_TMP/proj"
	setup_name=$1
	mkdir -p "$p/in"
	for _i in $(seq 1 "$2"); do printf '%s\n' "$_i" >"$p/in/$_i.txt"; done
	printf '# none yet\n' >"$p/requirements.txt"
	cat >"$p/task.sh" <<'SH'
echo "{\"first\": \"$1\", \"last\": \"$2\", \"n\": $#, \"env\": \"$FANOUT_INPUT\", \"greeting\": \"$GREETING\"}"
SH
}

setup_yaml() {
	cat >"$p/fanout.yaml" <<YAML
name: $setup_name
setup: $1
entrypoint: $2
inputs: {glob: 'in/*.txt'}
env: {GREETING: hello}
workers: 2
retries: 0
YAML
}

setup_results() {
	echo "task,input,first,last,n,env,greeting"
	for _i in $(seq 1 "$1"); do
		echo "$((_i - 1)),in/$_i.txt,--flag,in/$_i.txt,2,in/$_i.txt,hello"
	done
}
