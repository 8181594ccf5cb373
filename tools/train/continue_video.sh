#!/usr/bin/env bash
# Trains the VideoCrafter2-style micro text-to-video UNet (dgtrain.train_video, docs/train-video-models.md) on
# the CPU beside other work: nice 19, one thread, resumable (runs/cont/video holds the checkpoint, the frame
# latent caches sit beside it in runs/cont). The shipped image UNet inflated, spatial layers frozen, the first
# MAX_CLIPS (128) 16-frame training clips with their overall captions; a fresh run starts from the shipped
# temporal layers (video_unet.safetensors), and a checkpoint trained over another base UNet is refused (move
# runs/cont/video aside when unet.safetensors changes). It exports the EMA weights to
# runs/cont/video.safetensors only when the held-out diffusion loss (16 val clips, fixed timesteps and noise)
# beats every earlier check and the starting weights. Needs data/video/{train,val}:
#   dirigent-cli world dataset --split train --count 512 --video --frames 16 --out data/video/train
#   dirigent-cli world dataset --split val --count 16 --video --frames 16 --out data/video/val
# STEPS (default 20000) is the total the run aims at across sessions. UNET (default the shipped one) re-ties the
# temporal layers to another base UNet, in RUN (default video: runs/cont/RUN, exporting runs/cont/RUN.safetensors).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD M=$PWD/assets/models R=$PWD/runs/cont
mkdir -p "$R"
cd tools/train
export OPENBLAS_NUM_THREADS=1 PYTHONUNBUFFERED=1
exec nice -n 19 /usr/bin/python3 -m dgtrain.train_video --device cpu --threads 1 \
  --out "$R/${RUN:-video}" --export "$R/${RUN:-video}.safetensors" --export-best --init "${UNET:-$M/unet.safetensors}" \
  --temporal-from "$M/video_unet.safetensors" --vae "$M/vae.safetensors" \
  --text-encoder "$M/text_encoder.safetensors" --tokenizer "$ROOT/assets/tokenizer" \
  --data "$ROOT/data/video/train" --val "$ROOT/data/video/val" --max-clips "${MAX_CLIPS:-128}" --max-val-clips 16 \
  --val-every "${VAL_EVERY:-25}" --steps "${STEPS:-20000}" --batch 2 --lr 2e-4 --warmup 20 --ema 0.99 --fps 8 \
  --seed 3 --log-every 5 --ckpt-minutes 5
