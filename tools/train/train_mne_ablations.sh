#!/usr/bin/env bash
# Trains one Masked Noise Encoder ablation (issue #20: MODE = wplus, noise or masked) the way the shipped masked
# encoder was trained (docs/train-image-models.md): the same data, frozen generator, batch, seed and the same
# three phases of hyperparameters as its budgeted resumptions had, steps 0-614 --lambda-perc 0.1 (lambda-noise
# default 0.1) --lr 5e-4, 614-1371 --lambda-perc 0.02 --lambda-noise 0.01 --lr 5e-4, 1371-1841 the same at
# --lr 1.5e-4. Resumable: a phase already done returns at once. On the CPU beside other work: nice 19, one thread.
#   tools/train/train_mne_ablations.sh wplus   # -> runs/mne_wplus/{ckpt.pt,log.txt,mne.safetensors,summary.json}
set -euo pipefail
MODE=${1:?usage: train_mne_ablations.sh wplus|noise|masked [RUNDIR]}
cd "$(dirname "$0")/../.."
ROOT=${DG_ROOT:-$PWD}  # where data/, runs/ and assets/ are (a worktree without data: DG_ROOT=/work/main)
R=${2:-$ROOT/runs/mne_$MODE}
mkdir -p "$R"
cd tools/train
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
phase() {  # STEPS LAMBDA_PERC LAMBDA_NOISE LR
  nice -n 19 /usr/bin/python3 -m dgtrain.train_mne --data "$ROOT/data/world/train" --val "$ROOT/data/world/val" \
    --generator "$ROOT/runs/stylegan_mne/g_snap1.safetensors" \
    --perceptual "$ROOT/assets/models/eval_segmenter.safetensors" --mode "$MODE" --out "$R" \
    --steps "$1" --lambda-perc "$2" --lambda-noise "$3" --lr "$4" --batch 4 --threads 1 --log-every 20 \
    --val-every 100 --val-count 32 --ckpt-every 240 --export "$R/mne" --export-best
}
phase 614 0.1 0.1 5e-4
phase 1371 0.02 0.01 5e-4
phase 1841 0.02 0.01 1.5e-4
