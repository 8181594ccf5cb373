#!/usr/bin/env bash
# The whole default-model chain (train_defaults.sh) inside one short GPU lease: a 2-step smoke run of every
# stage on 64 images first (a CUDA-only bug then costs seconds, not the lease), then the real run with
# per-stage time budgets, then the float16 exports and logs packed into OUT (at most 16 MiB a file).
#   OUT=/tmp/out tools/train/train_defaults_lease.sh   # DG_LEASE_SECONDS: the whole run's limit (default 540)
# DG_LEASE_SMOKE=0 skips the smoke run; models already in runs/models (carried from a cut-short lease) are kept.
# DG_LEASE_REUSE="clip text_encoder eval_segmenter" takes those shipped models from assets/models instead of
# training them (their stages are skipped) and leaves them out of OUT.
# Needs build/app/cli/dirigent-cli (built here or carried) and a python3 with torch and CUDA.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
t0=$(date +%s)
OUT=${OUT:?set OUT to the folder for the results}
LEASE=${DG_LEASE_SECONDS:-540}
export DG_TRAIN_DEVICE=${DG_TRAIN_DEVICE:-cuda} DG_TRAIN_PYTHON=${DG_TRAIN_PYTHON:-python3} DG_TRAIN_WORLD_THREADS=$(nproc)
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
REUSE=${DG_LEASE_REUSE:-}
to_f16() { local f a=(); for f in "$@"; do a+=("$(realpath "$f")"); done
          (cd "$ROOT/tools/train" && "$DG_TRAIN_PYTHON" -m dgtrain.to_f16 "${a[@]}"); }
reuse_into() { local n; mkdir -p "$1"; for n in $REUSE; do cp assets/models/"$n".safetensors assets/models/"$n".json "$1"/ || exit 1; done; }

if [ "${DG_LEASE_SMOKE:-1}" = 1 ]; then
echo "== smoke run"
reuse_into /tmp/smoke/models
if ! DG_TRAIN_PERMILLE=2 DG_TRAIN_CN_STEPS=2 DG_TRAIN_IMAGES=64 DG_TRAIN_ADV=1 DG_TRAIN_DATA=/tmp/smoke/data \
     DG_TRAIN_MODELS=/tmp/smoke/models DG_TRAIN_RUNS=/tmp/smoke/runs tools/train/train_defaults.sh; then
  tail -n 30 /tmp/smoke/runs/*.out
  tar czf "$OUT/smoke_logs.tgz" /tmp/smoke/runs 2>/dev/null
  exit 1
fi
echo "== smoke run passed after $(( $(date +%s) - t0 )) s"
fi

# Step counts x40 so that the budgets, not the counts, end each stage (schedules follow the budgets), except the
# ControlNets', whose comparison needs equal steps.
# The dataset lives in memory (/dev/shm): nothing to write back to the machine's disk.
export DG_TRAIN_PERMILLE=40000 DG_TRAIN_IMAGES=${DG_TRAIN_IMAGES:-40000} DG_TRAIN_ADV=1 \
       DG_TRAIN_DATA=${DG_TRAIN_DATA:-/dev/shm/world} \
       DG_TRAIN_MODELS=runs/models DG_TRAIN_RUNS=runs \
       DG_TRAIN_BUDGET=${DG_TRAIN_BUDGET:-"clip=110 vae_base=110 eval_segmenter_base=240 eval_segmenter=120 unet_base=150 unet=30 vae=60"} \
       DG_TRAIN_CN_STEPS=${DG_TRAIN_CN_STEPS:-500}  # equal steps for the comparison: ~75 s side by side on an H100
mkdir -p runs
reuse_into runs/models
left=$(( LEASE - ($(date +%s) - t0) ))
# timeout runs the chain in a process group of its own and signals the whole group when time is up, so the
# stages it cuts short end with it (nothing is killed by name: other jobs on the machine may match any name).
timeout "$left" tools/train/train_defaults.sh 2>&1 | tee runs/train_defaults.log
echo "== chain ended after $(( $(date +%s) - t0 )) s"

cd runs/models || exit 1
for n in $REUSE; do rm -f "$n".safetensors "$n".json; done
ls *.safetensors >/dev/null 2>&1 && to_f16 *.safetensors
pack() { local name=$1; shift; local have=(); for f in "$@"; do [ -f "$f" ] && have+=("$f"); done
         [ ${#have[@]} -gt 0 ] && tar cf "$OUT/$name.tar" "${have[@]}"; }
pack unet_vae unet.* vae.*
pack clip clip.* text_encoder.*
pack seg_cnbase eval_segmenter.* controlnet_baseline.*
pack cn_aldm_adv controlnet_aldm.* controlnet_adv.*
# The UNet the ControlNets were trained on: the shipped one continues it (kept in case the lease ends first).
cd .. && [ -f unet_base.safetensors ] && to_f16 unet_base.safetensors && pack unet_base unet_base.*
cd ..
tar czf "$OUT/logs.tgz" runs/train_defaults.log runs/*.out runs/*/log.txt runs/*/summary.json runs/*/samples_*.png 2>/dev/null
ls -la "$OUT"
