#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside data with clang's libFuzzer under ASan+UBSan
# (tests/fuzz; docs/architecture.md, Testing).
#
#   tools/fuzz.sh SECONDS_PER_TARGET [TARGET...]   build build-fuzz, run each target (default: all) that long
#   tools/fuzz.sh --merge [TARGET...]              add what runs/fuzz/corpus/T found that covers new code
#                                                  (inputs up to 8 KiB) to the committed tests/fuzz/corpus/T
#   tools/fuzz.sh --totals                         seconds, executions and crashes per target, summed
#                                                  over runs/fuzz/log.tsv (all runs here)
#   tools/fuzz.sh --list                           the targets
#
# Each run starts from the committed seeds and the inputs earlier runs here found (runs/fuzz/corpus/T,
# where new ones go), prints its executions, appends "date target seconds executions crashes artifact"
# to runs/fuzz/log.tsv (sum a target's seconds and executions there for its campaign total) and writes
# this invocation's rows to runs/fuzz/last-run.tsv (tools/test.sh counts them). A crash, leak, timeout
# or memory blow-up stops that target: the input is saved under runs/fuzz/artifacts/T/ and the exit
# status is 1. Replay one with `build-fuzz/tests/fuzz/T FILE`.
# For long campaigns on a shared machine: nice -n 19 tools/fuzz.sh 1800.
set -uo pipefail
cd "$(dirname "$0")/.."

# Target -> the dictionaries (tests/fuzz/dict/*.dict) it uses.
declare -A dicts=(
  [fuzz_safetensors]="json safetensors"
  [fuzz_json]="json"
  [fuzz_png]="png"
  [fuzz_generation_png]="png generation_png json"
  [fuzz_project]="json project"
  [fuzz_model_config]="json model_config"
  [fuzz_tokenizer]="json tokenizer"
  [fuzz_world_index]="json world_index"
  [fuzz_palette]="json palette"
  [fuzz_weights]="json safetensors weights"
  [fuzz_ckpt]="ckpt"
  [fuzz_image]="png jpeg"
)
all_targets=(fuzz_safetensors fuzz_json fuzz_png fuzz_generation_png fuzz_project fuzz_model_config
  fuzz_tokenizer fuzz_world_index fuzz_palette fuzz_weights fuzz_ckpt fuzz_image)

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
mode=run
case $1 in
  --list) printf '%s\n' "${all_targets[@]}"; exit 0 ;;
  --totals)
    [ -f runs/fuzz/log.tsv ] || { echo "fuzz: no runs/fuzz/log.tsv yet"; exit 1; }
    printf '%-22s %6s %9s %14s %8s\n' target runs seconds executions crashes
    awk -F'\t' 'NR > 1 { s[$2] += $3; e[$2] += $4; c[$2] += $5; n[$2]++ }
      END { for (t in s) printf "%-22s %6d %9d %14d %8d\n", t, n[t], s[t], e[t], c[t] }' runs/fuzz/log.tsv | sort
    exit 0 ;;
  --merge) mode=merge ;;
  -h|--help) usage ;;
  *) [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] || usage; seconds=$1 ;;
esac
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [ -n "${dicts[$t]+x}" ] || { echo "fuzz: unknown target '$t' (tools/fuzz.sh --list)"; exit 2; }
done

out=runs/fuzz
mkdir -p "$out"
[ "$mode" = run ] && : >"$out/last-run.tsv"

# The build: clang, every object instrumented (meson option fuzz; see meson.build).
build_ok=1
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true >"$out/setup.log" 2>&1 || { cat "$out/setup.log"; build_ok=0; }
fi
if [ $build_ok = 1 ]; then
  ninja -C build-fuzz $(printf 'tests/fuzz/%s ' "${targets[@]}") >"$out/build.log" 2>&1 ||
    { tail -40 "$out/build.log"; build_ok=0; }
fi
if [ $build_ok = 0 ]; then
  echo "fuzz: the build failed"
  [ "$mode" = run ] && for t in "${targets[@]}"; do printf '%s\t0\tbuild-failed\n' "$t" >>"$out/last-run.tsv"; done
  exit 1
fi

if [ "$mode" = merge ]; then
  # Candidates: found inputs of at most FUZZ_MERGE_MAX_BYTES (default 8192), so the repository keeps
  # small files; libFuzzer adds those that reach features the committed ones do not, and skips
  # inputs that crash.
  max=${FUZZ_MERGE_MAX_BYTES:-8192}
  for t in "${targets[@]}"; do
    mkdir -p "tests/fuzz/corpus/$t" "$out/corpus/$t"
    before=$(ls "tests/fuzz/corpus/$t" | wc -l)
    rm -rf "$out/merge-candidates"
    mkdir -p "$out/merge-candidates"
    find "$out/corpus/$t" -type f -size -$((max + 1))c -exec cp -t "$out/merge-candidates" {} +
    build-fuzz/tests/fuzz/$t -merge=1 -use_counters=0 -timeout=30 -rss_limit_mb=2048 "tests/fuzz/corpus/$t" "$out/merge-candidates" \
      >"$out/merge-$t.log" 2>&1 || { echo "fuzz: merging $t failed (see $out/merge-$t.log)"; exit 1; }
    echo "$t: $before -> $(ls "tests/fuzz/corpus/$t" | wc -l) committed inputs ($(cat "tests/fuzz/corpus/$t"/* | wc -c) bytes)"
  done
  rm -rf "$out/merge-candidates"
  exit 0
fi

[ -f "$out/log.tsv" ] || printf 'date\ttarget\tseconds\texecutions\tcrashes\tartifact\n' >"$out/log.tsv"
status=0
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$out/logs"
  dict="$out/dict/$t.dict"
  mkdir -p "$out/dict"
  : >"$dict"
  for d in ${dicts[$t]}; do cat "tests/fuzz/dict/$d.dict" >>"$dict"; done
  log="$out/logs/$t-$(date +%Y%m%d-%H%M%S).log"
  start=$(date +%s)
  # Leaks are findings too (detect_leaks); any UBSan report aborts (built with -fno-sanitize-recover).
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1 \
    build-fuzz/tests/fuzz/$t -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="$dict" -artifact_prefix="$out/artifacts/$t/" "$out/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  crashes=0
  if [ $rc -ne 0 ]; then
    crashes=1
    status=1
    echo "fuzz: $t stopped (exit $rc) after $elapsed s; input: ${artifact:-none saved}; log: $log"
    grep -m1 -B2 -A30 '^==[0-9]*==ERROR\|^==[0-9]*== ERROR\|runtime error\|^fuzz: ' "$log" | head -45
  fi
  printf '%-22s %4d s  %10s executions  %d crashes\n' "$t" "$elapsed" "${execs:-?}" "$crashes"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -Iseconds)" "$t" "$elapsed" "${execs:-0}" "$crashes" "${artifact:--}" \
    >>"$out/log.tsv"
  printf '%s\t%s\t%s\n' "$t" "${execs:-0}" "$([ $crashes = 0 ] && echo ok || echo crashed)" >>"$out/last-run.tsv"
done
exit $status
