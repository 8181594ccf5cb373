#!/usr/bin/env bash
# Continues the shipped ALDM ControlNet on world and painted-style layouts (the default-models issue), on
# the CPU beside other work: nice 19, one thread, resumable (runs/cont/aldm holds the checkpoint and the
# latent cache; rerun the same command in a later session), exporting to runs/cont/controlnet_aldm only when
# the held-out mIoU (world val + painted val, 32 layouts each, DDIM 10) beats every earlier check and the
# shipped weights. Needs the datasets: dirigent-cli world dataset [--painted] --split train|val (see
# docs/evaluation.md). STEPS (default 3000) is the total the run aims at across sessions. LR (default 1e-4)
# and D_LR (the discriminator's, default 2e-4) lower the rates: lower both, since a discriminator left at its
# rate overpowers the ControlNet (lr 4e-5 with d-lr 2e-4 lost 0.05 val mIoU in 1800 steps). INIT (default the
# shipped weights) and RUN (default aldm, the folder under runs/cont; the export is runs/cont/controlnet_RUN)
# start a new run from other weights; UNET (default the shipped one) trains it over another base UNet.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD M=$PWD/assets/models R=$PWD/runs/cont
mkdir -p "$R"
cd tools/train
export OPENBLAS_NUM_THREADS=1 PYTHONUNBUFFERED=1
exec nice -n 19 /usr/bin/python3 -m dgtrain.train_controlnet --device cpu --threads 1 \
  --out "$R/${RUN:-aldm}" --export "$R/controlnet_${RUN:-aldm}.safetensors" --export-best \
  --init "${INIT:-$M/controlnet_aldm.safetensors}" --mode aldm \
  --unet "${UNET:-$M/unet.safetensors}" --vae "$M/vae.safetensors" \
  --text-encoder "$M/text_encoder.safetensors" --tokenizer "$ROOT/assets/tokenizer" \
  --data "$ROOT/data/world/train" --extra-data "$ROOT/data/painted/train" --max-images "${MAX_IMAGES:-4000}" \
  --val "$ROOT/data/world/val" --val-data "$ROOT/data/world/val" --val-data "$ROOT/data/painted/val" \
  --val-every "${VAL_EVERY:-100}" --val-count 32 --val-steps 10 \
  --steps "${STEPS:-3000}" --batch 16 --adv-batch 4 --lr "${LR:-1e-4}" --d-lr "${D_LR:-2e-4}" --seed 2 \
  --d-warmup 50 --ramp-start 50 --ramp-end 150
