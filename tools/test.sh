#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: install what is needed, build with -Werror,
# run every test (under the Vulkan validation layer), then the op and parser tests under ASan/UBSan.
# Then every libFuzzer target for a bounded time (tools/fuzz.sh). Ends with one summary line
# "N passed, N failed" (each fuzz target counts as a test).
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit 1

configure() { # dir, extra meson options...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
  else meson setup "$dir" "$@" >/dev/null; fi
}

status=0
configure build-test -Dwerror=true || exit 1
ninja -C build-test || exit 1
meson test -C build-test --print-errorlogs --num-processes 2 || status=1

# Sanitizers: the GPU op tests and the parsers' tests and fuzzers again under ASan+UBSan (only those
# targets are built). Leak checking is off because the Vulkan driver (llvmpipe) keeps allocations
# alive past exit that are not ours.
asan_suites=(unit io world editor golden pipeline eval video)
# -Werror stays on in the main build above; instrumented builds inline differently and raise
# format-truncation false positives in GCC 12, so here warnings are reported but not fatal.
configure build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false || exit 1
# The executables the chosen suites' tests run: a test's command, or an argument of a script test,
# that is a target of the build.
meson introspect build-asan --targets >build-asan/targets.json || exit 1
targets=$(meson introspect build-asan --tests | /usr/bin/python3 -c '
import json, os, sys
suites = set(sys.argv[1:])
built = {f for t in json.load(open("build-asan/targets.json")) for f in t["filename"]}
for t in json.load(sys.stdin):
    if suites & {s.split(":")[-1] for s in t["suite"]}:
        for p in t["cmd"]:
            p = os.path.join(os.path.abspath("build-asan"), p)  # arguments may be relative to the build
            if p in built:
                print(os.path.relpath(p, "build-asan"))' "${asan_suites[@]}" | sort -u)
ninja -C build-asan $targets || exit 1
suite_args=()
for s in "${asan_suites[@]}"; do suite_args+=(--suite "$s"); done
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --no-rebuild "${suite_args[@]}" --print-errorlogs --num-processes 2 || status=1

# Coverage-guided fuzzing (tests/fuzz: clang's libFuzzer under ASan+UBSan, one target per parser of
# outside data), each target for DG_FUZZ_SECONDS from its committed corpus; a target passes when it
# finds nothing. tools/fuzz.sh writes one row per target to runs/fuzz/last-run.tsv.
bash tools/fuzz.sh "${DG_FUZZ_SECONDS:-30}" || status=1

/usr/bin/python3 - build-test/meson-logs/testlog.json build-asan/meson-logs/testlog.json runs/fuzz/last-run.tsv <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:3]:
    for line in open(path):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
try:
    rows = [line.split("\t") for line in open(sys.argv[3]) if line.strip()]
except OSError:
    rows = [["fuzz", "0", "missing"]]
for target, executions, result in rows:
    if result.strip() == "ok": passed += 1
    else: failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
