#!/usr/bin/env bash
# Continues the shipped text-to-image UNet on the world's training images (the default-models issue), on the
# CPU beside other work: nice 19, one thread, resumable (runs/cont/unet holds the checkpoint; the latent cache
# of the first MAX_IMAGES (4000) training images
# sits beside it and is shared with continue_aldm.sh's runs on the same autoencoder). It exports the EMA
# weights to runs/cont/unet.safetensors only when the held-out diffusion loss (the world val split, fixed
# timesteps and noise) beats every earlier check and the shipped weights. The ControlNets were trained on the
# shipped UNet: measure them on a continued UNet (eval_models.py l2i) before shipping it. Needs
# data/world/{train,val} (dirigent-cli world dataset, docs/evaluation.md). STEPS (default 20000) is the total
# the run aims at across sessions. ATTN_LOSS W (default 0: off) adds train_unet's token grounding loss, so that
# the text cross-attention becomes spatial (what Divide & Bind needs); its runs export on the diffusion loss
# plus W x the held-out grounding loss, while the diffusion loss stays within 2% of the start's. RUN (default
# unet) names the run's folder under runs/cont, LR (default 1e-4) its learning rate. ATTN_PIXEL P (default 1)
# weighs the grounding loss's pixel term (train_unet --attn-pixel).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD M=$PWD/assets/models R=$PWD/runs/cont
mkdir -p "$R"
cd tools/train
export OPENBLAS_NUM_THREADS=1 PYTHONUNBUFFERED=1
exec nice -n 19 /usr/bin/python3 -m dgtrain.train_unet --device cpu --threads 1 \
  --out "$R/${RUN:-unet}" --export "$R/${RUN:-unet}.safetensors" --export-best --init "$M/unet.safetensors" \
  --vae "$M/vae.safetensors" --text-encoder "$M/text_encoder.safetensors" --tokenizer "$ROOT/assets/tokenizer" \
  --data "$ROOT/data/world/train" --val "$ROOT/data/world/val" --max-images "${MAX_IMAGES:-4000}" \
  --val-every "${VAL_EVERY:-500}" --steps "${STEPS:-20000}" --batch 32 --lr "${LR:-1e-4}" --warmup 100 --ema 0.999 \
  --seed 3 --log-every 20 --ckpt-minutes 10 --attn-loss "${ATTN_LOSS:-0}" --attn-pixel "${ATTN_PIXEL:-1}"
