#!/bin/bash
# Every command line the documentation shows exists: each `fanout ...` line
# of README.md, docs/*.md and history/README.md (in code blocks and in
# `inline code`) names a command that `fanout CMD --help` knows, and every
# --flag on it is one that command's usage lists. Each usage, in turn, is
# checked against the parser: every flag it lists is accepted (with a
# sample value when the usage gives it one), so a flag in the docs that
# the program does not take fails here. A made-up flag and a made-up
# command in a scratch document show that the check catches them. The
# gcloud commands the docs show for the Google Cloud set-up are asked for
# their --help from the installed gcloud, when there is one.
. "$top_srcdir/tests/integration/lib.sh"
plan_lazy

# doc_check FILE...: one line per command line found, "ok<TAB>where<TAB>
# command" or "bad<TAB>where<TAB>command<TAB>why"; then one line per
# command whose usage was probed, "usage<TAB>command<TAB>problems".
doc_check() {
	python3 - "$FANOUT" "$TEST_TMP" "$top_srcdir" "$@" <<'PY'
import os, re, subprocess, sys

fanout, tmp, top, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
FLAG = re.compile(r"--[a-z][a-z0-9-]*")
# Sample values for the metavariables the usages show.
SAMPLE = {"N": "1", "W": "1", "R": "us-east-1", "FILE": "/dev/null",
          "DIR": tmp + "/docs-results", "T": "t3.micro", "NAME": "demo",
          "[USER@]HOST[:PORT]": "127.0.0.1"}


def run(args):
    try:
        p = subprocess.run([fanout] + args, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=20)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return -1, "timed out"


def commands(path):
    """(line number, command text) of every fanout command line."""
    out, fence, prev = [], False, None
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line.lstrip().startswith("```"):
            fence, prev = not fence, None
            continue
        if fence:
            text = re.sub(r"^\s*\$ ", "", line)
            text = re.sub(r"\s+#.*$", "", text)
            if re.match(r"fanout(\s|$)", text):
                out.append([n, text.strip()])
                prev = out[-1]
            elif prev is not None and re.match(r"\s+[\[-]", line):
                prev[1] += " " + text.strip()   # a continuation line
            else:
                prev = None
            continue
        for m in re.finditer(r"`(fanout(?:\s[^`]*)?)`", line):
            out.append([n, m.group(1).strip()])
    return out


usages = {}


def usage(sub):
    if sub not in usages:
        rc, text = run([sub, "--help"])
        ok = rc == 0 and text.startswith("usage: fanout %s" % sub)
        usages[sub] = text.split("\n")[0] if ok else None
    return usages[sub]


def usage_flags(text):
    """{flag: sample value or None} for the flags a usage line lists."""
    flags, toks = {}, text.split()
    for i, tok in enumerate(toks):
        names = FLAG.findall(tok)
        if not names:
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        closed = tok.rstrip().endswith("]")
        for j, name in enumerate(names):
            value = None
            if (j == len(names) - 1 and not closed and nxt and
                    not nxt.lstrip("[").startswith("-") and nxt != "|"):
                v = nxt.rstrip("]") if not nxt.startswith("[U") else nxt
                value = SAMPLE.get(v, v.split("|")[0])
            flags[name] = value
    return flags


for path in files:
    for n, cmd in commands(path):
        where = "%s:%d" % (os.path.relpath(path, top if
                           path.startswith(top + "/") else tmp), n)
        toks = cmd.split()
        why = None
        if len(toks) == 1:
            pass                        # the menu
        elif toks[1].startswith("-"):
            if toks[1] not in ("-h", "--help", "--version"):
                why = "fanout has no global option %s" % toks[1]
        elif usage(toks[1]) is None:
            why = "'fanout %s' is not a command (fanout --help lists " \
                  "them)" % toks[1]
        else:
            known = usage_flags(usage(toks[1]))
            bad = [f for f in FLAG.findall(" ".join(toks[2:]))
                   if f not in known]
            if bad:
                why = "%s not in '%s'" % (", ".join(bad), usage(toks[1]))
        if why:
            print("bad\t%s\t%s\t%s" % (where, cmd, why))
        else:
            print("ok\t%s\t%s" % (where, cmd))

# Each usage that was used, against the parser.
for sub, text in sorted(usages.items()):
    if text is None:
        continue
    problems = []
    for flag, value in usage_flags(text).items():
        arg = [flag] if value is None else [flag + "=" + value]
        rc, out = run([sub] + arg + ["--help"])
        if rc != 0 or not out.startswith("usage: fanout"):
            problems.append("%s: %s" % (" ".join(arg), out.strip()[:160]))
    print("usage\t%s\t%s" % (sub, "; ".join(problems)))
PY
}

# doc_paths FILE...: "FILE<TAB>missing paths" for each file: the paths of
# the source tree it names (src/..., tests/..., docs/..., X.md, ...) that
# do not exist (a built program counts when its .c does).
doc_paths() {
	python3 - "$top_srcdir" "$@" <<'PY'
import glob, os, re, sys

top, files = sys.argv[1], sys.argv[2:]
PATH = re.compile(r"(?<![\w./<-])((?:src|tests|docs|templates|menus|bench|"
                  r"examples|history)/[A-Za-z0-9_.*/-]*[A-Za-z0-9_*/]|"
                  r"[A-Z][A-Z_]*\.md)(?![\w/<])")
for path in files:
    text = open(path, encoding="utf-8").read()
    missing = []
    for m in PATH.finditer(text):
        p = os.path.join(top, m.group(1))
        if not (glob.glob(p) or os.path.exists(p + ".c")):
            missing.append(m.group(1))
    print("%s\t%s" % (os.path.relpath(path, top) if path.startswith(top)
                       else os.path.basename(path),
                       " ".join(sorted(set(missing)))))
PY
}

docs=("$top_srcdir/README.md" "$top_srcdir"/docs/*.md "$top_srcdir/history/README.md")
while IFS=$'\t' read -r file missing; do
	is "" "$missing" "$file: every file or folder of the source tree it names exists"
done < <(doc_paths "${docs[@]}")

doc_check "${docs[@]}" >"$TEST_TMP/docs.out"
n=0
while IFS=$'\t' read -r kind where cmd why; do
	case $kind in
	ok)
		ok 0 "$where: $cmd"
		n=$((n + 1)) ;;
	bad)
		ok 1 "$where: $cmd"
		diag "$why"
		n=$((n + 1)) ;;
	usage)
		is "" "$cmd" "fanout $where --help lists only flags it accepts" ;;
	esac
done <"$TEST_TMP/docs.out"
ok $(( n >= 20 ? 0 : 1 )) "the docs show command lines ($n)"

# gcloud_check FILE...: each gcloud command the docs show (the words
# before the first flag or argument), "ok|bad<TAB>where<TAB>command", by
# asking the installed gcloud for its --help (no network, no account).
gcloud_check() {
	python3 - "$TEST_TMP" "$top_srcdir" "$@" <<'PY'
import os, re, subprocess, sys

tmp, top, files = sys.argv[1], sys.argv[2], sys.argv[3:]
WORD = re.compile(r"^[a-z][a-z0-9-]*$")
env = dict(os.environ, CLOUDSDK_CONFIG=tmp + "/gcloud-docs",
           CLOUDSDK_CORE_DISABLE_PROMPTS="1",
           CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK="1",
           CLOUDSDK_CORE_DISABLE_USAGE_REPORTING="1")
seen = {}
for path in files:
    fence = False
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        texts = [re.sub(r"^\s*\$ ", "", line).strip()] if fence else \
            re.findall(r"`(gcloud\s[^`]*)`", line)
        for text in texts:
            if not text.startswith("gcloud "):
                continue
            words = []
            for w in text.split()[1:]:
                if not WORD.match(w) or w in ("ROLE", "PROJECT"):
                    break
                words.append(w)
            cmd = " ".join(["gcloud"] + words)
            if cmd not in seen:
                p = subprocess.run(["gcloud"] + words + ["--help"],
                                   env=env, capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=60)
                seen[cmd] = p.returncode == 0
            where = "%s:%d" % (os.path.relpath(path, top if
                               path.startswith(top + "/") else tmp), n)
            print("%s\t%s\t%s" % ("ok" if seen[cmd] else "bad", where, cmd))
PY
}

if command -v gcloud >/dev/null 2>&1; then
	gcloud_check "${docs[@]}" >"$TEST_TMP/gcloud.out"
	n=0
	while IFS=$'\t' read -r kind where cmd; do
		ok "$([ "$kind" = ok ]; echo $?)" "$where: $cmd is a gcloud command"
		n=$((n + 1))
	done <"$TEST_TMP/gcloud.out"
	ok $(( n >= 4 ? 0 : 1 )) "the docs show gcloud commands for the GCP set-up ($n)"
	printf '```sh\ngcloud compute instances teleport vm1\n```\n' >"$TEST_TMP/gcloud-made-up.md"
	like "$(gcloud_check "$TEST_TMP/gcloud-made-up.md")" $'^bad\tgcloud-made-up.md:2\tgcloud compute instances teleport vm1' \
		"a made-up gcloud command is caught"
else
	skip "gcloud is not installed: the docs' gcloud commands are not checked"
fi

# The check catches what does not exist.
mkdir -p "$TEST_TMP/docs"
cat >"$TEST_TMP/docs/made-up.md" <<'MD'
```sh
fanout create PROJECT --yes --made-up-flag
fanout teleport ID
```
And `fanout history --jsn` in a sentence; `fanout cleanup --orphans --region R`
is fine.
MD
out=$(doc_check "$TEST_TMP/docs/made-up.md")
is 3 "$(printf '%s\n' "$out" | grep -c '^bad')" "a made-up document: three bad command lines"
like "$out" $'bad\tdocs/made-up.md:2\tfanout create PROJECT --yes --made-up-flag\t--made-up-flag not in .usage: fanout create ' \
	"a made-up flag is caught, with the command's usage"
like "$out" "'fanout teleport' is not a command" "a made-up command is caught"
like "$out" $'bad\tdocs/made-up.md:5\tfanout history --jsn' "a flag in inline code is checked too"
like "$out" $'ok\tdocs/made-up.md:5\tfanout cleanup --orphans --region R' "a real one passes"
printf 'See DESIGN.md and src/cloud/nowhere.c, not src/cloud/http.c.\n' >"$TEST_TMP/docs/paths.md"
is $'paths.md\tDESIGN.md src/cloud/nowhere.c' "$(doc_paths "$TEST_TMP/docs/paths.md")" \
	"a document naming files that do not exist is caught"
done_testing
