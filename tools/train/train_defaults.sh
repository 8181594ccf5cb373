#!/usr/bin/env bash
# Trains every embedded default model from scratch on the procedural world, in order, resumably:
# a stage whose export exists is skipped, and each trainer resumes from runs/<stage>/ckpt.pt.
# Run in the background and follow runs/train_defaults.log:
#   nohup tools/train/train_defaults.sh > runs/train_defaults.log 2>&1 &
# DG_TRAIN_DEVICE=cuda uses a GPU. For a smoke run of the whole chain: DG_TRAIN_PERMILLE (default
# 1000) scales the step counts, DG_TRAIN_DATA / DG_TRAIN_MODELS / DG_TRAIN_RUNS move the dataset,
# the exported models and the run folders, and DG_TRAIN_IMAGES sets the training-set size.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OPENBLAS_NUM_THREADS=1 PYTHONUNBUFFERED=1
PY=/usr/bin/python3
DEV=${DG_TRAIN_DEVICE:-cpu}
PERMILLE=${DG_TRAIN_PERMILLE:-1000}
steps() { local n=$(( $1 * PERMILLE / 1000 )); echo $(( n > 2 ? n : 2 )); }
CLI=build/app/cli/dirigent-cli
DATA=${DG_TRAIN_DATA:-data/world}
MODELS=${DG_TRAIN_MODELS:-assets/models}
RUNS=${DG_TRAIN_RUNS:-runs}
IMAGES=${DG_TRAIN_IMAGES:-20000}
mkdir -p "$RUNS" "$MODELS"
[ -x "$CLI" ] || { meson setup build >/dev/null && ninja -C build; }

stage() { echo "== $(date -u +%H:%M:%S) $*"; }

# 1. The world: train/val/test images (disjoint seed ranges), resumable.
for split_count in train:$IMAGES val:$(( IMAGES / 20 )) test:$(( IMAGES / 20 )); do
  split=${split_count%%:*} count=${split_count##*:}
  stage "world dataset $split ($count)"
  "$CLI" world dataset --split "$split" --count "$count" --out "$DATA/$split"
done

# 2. Tokenizer vocabulary learned on the training captions.
if [ ! -f assets/tokenizer/merges.txt ]; then
  stage "tokenizer"
  (cd tools/train && $PY -m dgtrain.tokenizer learn --captions "../../$DATA/train" --merges 4000 --out ../../assets/tokenizer/)
fi

train() { # name script export args...
  local name=$1 script=$2 export=$3; shift 3
  if [ -f "$export.safetensors" ]; then stage "$name: done ($export.safetensors)"; return; fi
  stage "$name"
  (cd tools/train && $PY "$script" --device "$DEV" --out "../../$RUNS/$name" --export "../../$export.safetensors" "$@")
}

# 3. Contrastive text-image model; its text tower is the diffusion model's frozen text encoder.
train clip train_clip.py "$MODELS/clip" --data "../../$DATA/train" --val "../../$DATA/val" \
  --tokenizer ../../assets/tokenizer --steps "$(steps 6000)" --export-text "../../$MODELS/text_encoder"
# 4. Evaluation segmenter (judges layout alignment; never used to train the generators).
train eval_segmenter train_segmenter.py "$MODELS/eval_segmenter" --data "../../$DATA/train" \
  --val "../../$DATA/val" --steps "$(steps 6000)"
# 5. Autoencoder, 6. UNet, 7. ControlNets (baseline and ALDM on the same data, steps and seed).
train vae train_vae.py "$MODELS/vae" --data "../../$DATA/train" --val "../../$DATA/val" --steps "$(steps 8000)"
train unet train_unet.py "$MODELS/unet" --data "../../$DATA/train" --val "../../$DATA/val" \
  --vae "../../$MODELS/vae.safetensors" --text-encoder "../../$MODELS/text_encoder.safetensors" \
  --tokenizer ../../assets/tokenizer --steps "$(steps 20000)"
for mode in baseline aldm; do
  train "controlnet_$mode" train_controlnet.py "$MODELS/controlnet_$mode" --mode "$mode" \
    --data "../../$DATA/train" --val "../../$DATA/val" --unet "../../$MODELS/unet.safetensors" \
    --vae "../../$MODELS/vae.safetensors" --text-encoder "../../$MODELS/text_encoder.safetensors" \
    --tokenizer ../../assets/tokenizer --steps "$(steps 10000)" --seed 1
done
stage "all default models trained"
