#!/usr/bin/env bash
# The whole default-model chain (train_defaults.sh) inside one short GPU lease: a 2-step smoke run of every
# stage on 64 images first (a CUDA-only bug then costs seconds, not the lease), then the real run with
# per-stage time budgets on the GPU recipe (large batches with sqrt-scaled learning rates, the training set
# resident on the GPU, bfloat16 autocast, fused AdamW), then the float16 exports and logs packed into OUT (at
# most 16 MiB a file) and a table of samples per second per stage.
#   OUT=/tmp/out tools/train/train_defaults_lease.sh   # DG_LEASE_SECONDS: the whole run's limit (default 540)
# DG_LEASE_SMOKE=0 skips the smoke run; models already in runs/models (carried from a cut-short lease) are kept.
# DG_LEASE_REUSE="clip text_encoder eval_segmenter" takes those shipped models from assets/models instead of
# training them (their stages are skipped) and leaves them out of OUT. DG_TRAIN_BATCH / DG_TRAIN_BUDGET /
# DG_TRAIN_CN_STEPS override the recipe (train_defaults.sh).
# Needs build/app/cli/dirigent-cli (built here or carried) and a python3 with torch and CUDA.
#
# DG_LEASE_REHEARSAL=1 runs the same script on this machine's CPU at toy sizes (64 images, seconds per stage,
# small batches, under DG_LEASE_ROOT, default /tmp/dg_lease_rehearsal): every stage with the GPU recipe's
# arguments (--resident --bf16 --lr-ref-batch) but on the CPU, the packing and the table; its numbers mean
# nothing, its failures do.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
t0=$(date +%s)
OUT=${OUT:?set OUT to the folder for the results}
mkdir -p "$OUT"
if [ "${DG_LEASE_REHEARSAL:-0}" = 1 ]; then
  R=${DG_LEASE_ROOT:-/tmp/dg_lease_rehearsal}
  export DG_TRAIN_DEVICE=cpu DG_TRAIN_RECIPE=cuda DG_TRAIN_PYTHON=${DG_TRAIN_PYTHON:-/usr/bin/python3} \
         DG_TRAIN_BATCH=${DG_TRAIN_BATCH:-"clip=8 segmenter=4 vae=4 unet=16 controlnet=4 adv=2 video=2"} \
         DG_TRAIN_IMAGES=${DG_TRAIN_IMAGES:-64} DG_TRAIN_DATA=${DG_TRAIN_DATA:-$R/world} \
         DG_TRAIN_BUDGET=${DG_TRAIN_BUDGET:-"clip=6 vae_base=6 eval_segmenter_base=6 eval_segmenter=6 unet_base=10 unet=5 vae=5 video=5"} \
         DG_TRAIN_CLIPS=${DG_TRAIN_CLIPS:-4} DG_TRAIN_CN_STEPS=${DG_TRAIN_CN_STEPS:-2}
  LEASE=${DG_LEASE_SECONDS:-1800} SMOKE=$R/smoke RUNS=$R/runs
else
  export DG_TRAIN_DEVICE=${DG_TRAIN_DEVICE:-cuda} DG_TRAIN_PYTHON=${DG_TRAIN_PYTHON:-python3}
  LEASE=${DG_LEASE_SECONDS:-540} SMOKE=/tmp/smoke RUNS=$ROOT/runs
fi
export DG_TRAIN_WORLD_THREADS=$(nproc)
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no GPU: $DG_TRAIN_DEVICE"
REUSE=${DG_LEASE_REUSE:-}
to_f16() { local f a=(); for f in "$@"; do a+=("$(realpath "$f")"); done
           (cd "$ROOT/tools/train" && "$DG_TRAIN_PYTHON" -m dgtrain.to_f16 "${a[@]}"); }
reuse_into() { local n; mkdir -p "$1"; for n in $REUSE; do cp assets/models/"$n".safetensors assets/models/"$n".json "$1"/ || exit 1; done; }
# samples per second of every stage that ran: the "done:" line each trainer logs at its end
throughput() { local f; for f in "$1"/*/log.txt; do grep -h "done: " "$f" 2>/dev/null | tail -n 1 |
               sed "s|.*done: |  $(basename "$(dirname "$f")"): |"; done; }

if [ "${DG_LEASE_SMOKE:-1}" = 1 ]; then
echo "== smoke run"
reuse_into "$SMOKE/models"
if ! DG_TRAIN_PERMILLE=2 DG_TRAIN_CN_STEPS=2 DG_TRAIN_IMAGES=64 DG_TRAIN_CLIPS=4 DG_TRAIN_ADV=1 DG_TRAIN_DATA="$SMOKE/data" \
     DG_TRAIN_MODELS="$SMOKE/models" DG_TRAIN_RUNS="$SMOKE/runs" DG_TRAIN_BUDGET= tools/train/train_defaults.sh; then
  tail -n 30 "$SMOKE"/runs/*.out
  tar czf "$OUT/smoke_logs.tgz" "$SMOKE/runs" 2>/dev/null
  exit 1
fi
echo "== smoke run passed after $(( $(date +%s) - t0 )) s"
fi

# Step counts x40 so that the budgets, not the counts, end each stage (schedules follow the budgets), except the
# ControlNets', whose comparison needs equal steps.
# The dataset lives in memory (/dev/shm): nothing to write back to the machine's disk.
export DG_TRAIN_PERMILLE=40000 DG_TRAIN_IMAGES=${DG_TRAIN_IMAGES:-40000} DG_TRAIN_ADV=1 \
       DG_TRAIN_DATA=${DG_TRAIN_DATA:-/dev/shm/world} \
       DG_TRAIN_MODELS="$RUNS/models" DG_TRAIN_RUNS="$RUNS" \
       DG_TRAIN_BUDGET=${DG_TRAIN_BUDGET:-"clip=110 vae_base=110 eval_segmenter_base=240 eval_segmenter=120 unet_base=150 unet=30 vae=60 video=90"} \
       DG_TRAIN_CN_STEPS=${DG_TRAIN_CN_STEPS:-500}  # equal steps for the comparison (batch 128 each, side by side)
mkdir -p "$RUNS"
reuse_into "$RUNS/models"
left=$(( LEASE - ($(date +%s) - t0) ))
# timeout runs the chain in a process group of its own and signals the whole group when time is up, so the
# stages it cuts short end with it (nothing is killed by name: other jobs on the machine may match any name).
timeout "$left" tools/train/train_defaults.sh 2>&1 | tee "$RUNS/train_defaults.log"
echo "== chain ended after $(( $(date +%s) - t0 )) s"
echo "== samples per second per stage (training loop only, from each run's log)"
throughput "$RUNS" | tee "$RUNS/throughput.txt"

cd "$RUNS/models" || exit 1
for n in $REUSE; do rm -f "$n".safetensors "$n".json; done
ls *.safetensors >/dev/null 2>&1 && to_f16 *.safetensors
pack() { local name=$1; shift; local have=(); for f in "$@"; do [ -f "$f" ] && have+=("$f"); done
         [ ${#have[@]} -gt 0 ] && tar cf "$OUT/$name.tar" "${have[@]}"; }
pack unet_vae unet.* vae.*
pack clip clip.* text_encoder.*
pack seg_cnbase eval_segmenter.* controlnet_baseline.*
pack cn_aldm_adv controlnet_aldm.* controlnet_adv.*
pack video video_unet.*  # the text-to-video UNet's temporal layers over unet.safetensors (bfloat16 autocast, batch 64 of 16-frame clips)
# The UNet the ControlNets were trained on: the shipped one continues it (kept in case the lease ends first).
cd "$RUNS" && [ -f unet_base.safetensors ] && to_f16 unet_base.safetensors && pack unet_base unet_base.*
# The whole video UNet as trained (if the chain ended before its layers were split off).
cd "$RUNS" && [ -f video_full.safetensors ] && pack video_full video_full.*
cd "$RUNS/.." && r=$(basename "$RUNS")
tar czf "$OUT/logs.tgz" "$r"/train_defaults.log "$r"/throughput.txt "$r"/*.out "$r"/*/log.txt "$r"/*/summary.json \
  "$r"/*/samples_*.png 2>/dev/null
echo "== done after $(( $(date +%s) - t0 )) s"
ls -la "$OUT"
