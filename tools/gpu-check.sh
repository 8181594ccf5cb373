#!/usr/bin/env bash
# The GPU check: run this first whenever a machine with an NVIDIA or AMD GPU is at hand. Builds the
# engine, shows the Vulkan device it picked and its memory path, runs the op, golden and pipeline tests
# on it under the validation layer (and again with staging forced), then prints dirigent-bench (ops against
# PyTorch) and a UNet with Stable Diffusion 1.5's real dimensions at 512x512, CFG batch 2, f16, random
# weights: seconds per step and it/s on the engine, beside PyTorch fp16 on the same card when PyTorch
# and CUDA are there. The numbers go in docs/performance.md with the device named.
#
#   tools/gpu-check.sh [--quick] [--setup]
#     --quick   the tests only of the unit suite, fewer benchmark steps (a short lease)
#     --setup   run tools/setup.sh first (needs the Debian archive; lent GPU machines may have no network)
# SD15_SIZE=128 shrinks the UNet benchmark's image (a smoke test of the script on a CPU driver).
# Writes its log to ${OUT:-build-gpu}/gpu-check.log as well as to stdout.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
for a in "$@"; do
  case $a in
  --quick) quick=1 ;;
  --setup) bash tools/setup.sh || exit 1 ;;
  *) echo "usage: tools/gpu-check.sh [--quick] [--setup]" >&2; exit 2 ;;
  esac
done
log_dir=${OUT:-build-gpu}
mkdir -p "$log_dir"
exec > >(tee "$log_dir/gpu-check.log") 2>&1
section() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
status=0

section "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverName|apiVersion' || echo "no vulkaninfo"
for tool in meson ninja glslangValidator cc; do command -v $tool >/dev/null || { echo "missing: $tool (run with --setup)"; exit 1; }; done

section "build"
if [ -f build-gpu/build.ninja ]; then meson setup --reconfigure build-gpu -Dwerror=true -Dvalidation=true >/dev/null
else meson setup build-gpu -Dwerror=true -Dvalidation=true >/dev/null; fi || exit 1
ninja -C build-gpu >/dev/null || { ninja -C build-gpu | tail -30; exit 1; }
build-gpu/app/cli/dirigent-cli device || status=1

section "tests on the device (validation layer on)"
suites=(--suite unit)
[ $quick -eq 1 ] || suites+=(--suite golden --suite pipeline)
meson test -C build-gpu "${suites[@]}" --print-errorlogs --num-processes 1 | grep -E '^ *[0-9]+/|^(Ok|Fail|Timeout):'
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

section "dirigent-bench (ops, against PyTorch on this machine's CPU where the engine runs elsewhere)"
build-gpu/tests/bench/dirigent-bench || status=1

size=${SD15_SIZE:-512}
section "UNet with SD 1.5's dimensions, ${size}x${size}, batch 2 (CFG), f16, random weights"
steps=20
[ $quick -eq 1 ] && steps=5
sd15=${TMPDIR:-/tmp}/dirigent-sd15/unet
py=/usr/bin/python3
command -v $py >/dev/null || py=python3
if [ ! -f "$sd15.safetensors" ]; then
  (cd tools/train && $py -m dgtrain.bench_unet_sd15 --write "$sd15") || { echo "could not write the SD 1.5 UNet (PyTorch missing?)"; status=1; }
fi
if [ -f "$sd15.safetensors" ]; then
  build-gpu/tests/bench/dirigent-bench-unet "$sd15.safetensors" --size ${size}x${size} --batch 2 --steps $steps --dtype f16 |
    grep -E '^(device|unet|bench)'
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
if $py -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  (cd tools/train && $py -m dgtrain.bench_unet_sd15 --torch --device cuda --size $size --steps $steps) || status=1
else
  echo "PyTorch with CUDA is not available here: no PyTorch fp16 number beside the engine's"
fi

section "done: $([ $status -eq 0 ] && echo ok || echo FAILED)"
exit $status
