#!/usr/bin/env bash
# Trains every embedded default model from scratch on the procedural world, in order, resumably:
# a stage whose export exists is skipped, and each trainer resumes from runs/<stage>/ckpt.pt.
# Run in the background and follow runs/train_defaults.log:
#   nohup tools/train/train_defaults.sh > runs/train_defaults.log 2>&1 &
# DG_TRAIN_DEVICE=cuda uses a GPU. For a smoke run of the whole chain: DG_TRAIN_PERMILLE (default
# 1000) scales the step counts, DG_TRAIN_DATA / DG_TRAIN_MODELS / DG_TRAIN_RUNS move the dataset,
# the exported models and the run folders, DG_TRAIN_IMAGES sets the training-set size and
# DG_TRAIN_WORLD_THREADS the threads rendering it, DG_TRAIN_PYTHON the interpreter (default /usr/bin/python3),
# DG_TRAIN_CLI the dirigent-cli that renders it.
# DG_TRAIN_BUDGET="clip=120 unet=190 ..." also stops a stage after that many seconds of training (its schedules
# then follow time): how a GPU lease of a few minutes is spent.
# On a GPU the recipe changes (DG_TRAIN_RECIPE, default the device; DG_TRAIN_RECIPE=cuda on a CPU rehearses it):
# large batches with the learning rate scaled by sqrt(batch / the batch it was chosen at) (--lr-ref-batch), the
# training set resident on the device, bfloat16 autocast (docs/train-image-models.md). DG_TRAIN_BATCH="unet=2048
# controlnet=64 ..." overrides that recipe's batch sizes (groups clip, segmenter, vae, unet, controlnet, adv, video).
# Each stage's log ends with a "done:" line: its steps, samples and samples per second.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OPENBLAS_NUM_THREADS=1 PYTHONUNBUFFERED=1
PY=${DG_TRAIN_PYTHON:-/usr/bin/python3}
DEV=${DG_TRAIN_DEVICE:-cpu}
RECIPE=${DG_TRAIN_RECIPE:-$DEV}
PERMILLE=${DG_TRAIN_PERMILLE:-1000}
steps() { local n=$(( $1 * PERMILLE / 1000 )); echo $(( n > 2 ? n : 2 )); }
CLI=${DG_TRAIN_CLI:-build/app/cli/dirigent-cli}
DATA=${DG_TRAIN_DATA:-data/world}
MODELS=${DG_TRAIN_MODELS:-assets/models}
RUNS=${DG_TRAIN_RUNS:-runs}
IMAGES=${DG_TRAIN_IMAGES:-20000}
DATA=$(realpath -m "$DATA") MODELS=$(realpath -m "$MODELS") RUNS=$(realpath -m "$RUNS")  # the trainers run in tools/train
mkdir -p "$RUNS" "$MODELS"
[ -x "$CLI" ] || { meson setup build >/dev/null && ninja -C build; }

stage() { echo "== $(date -u +%H:%M:%S) $*"; }

# 1. The world: train/val/test images (disjoint seed ranges), resumable.
for split_count in train:$IMAGES val:$(( IMAGES / 20 )) test:$(( IMAGES / 20 )); do
  split=${split_count%%:*} count=${split_count##*:}
  stage "world dataset $split ($count)"
  "$CLI" world dataset --split "$split" --count "$count" --threads "${DG_TRAIN_WORLD_THREADS:-2}" --out "$DATA/$split"
done

# Decoded once into DATA/<split>/decoded/*.npy, which every trainer memory-maps.
for split in train val; do
  [ -f "$DATA/$split/decoded/images.npy" ] || (cd tools/train && $PY -m dgtrain.world_data decode "$DATA/$split")
done

# 2. Tokenizer vocabulary learned on the training captions.
if [ ! -f assets/tokenizer/merges.txt ]; then
  stage "tokenizer"
  (cd tools/train && $PY -m dgtrain.tokenizer learn --captions "$DATA/train" --merges 4000 --out ../../assets/tokenizer/)
fi

budget() { # name -> its DG_TRAIN_BUDGET seconds (controlnet_* fall back to "controlnet"), 0 = none
  local kv
  for kv in ${DG_TRAIN_BUDGET:-}; do [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }; done
  case $1 in controlnet_*) budget controlnet ;; *) echo 0 ;; esac
}
batch() { # group cpu gpu: the recipe's batch size (DG_TRAIN_BATCH overrides the GPU recipe's)
  [ "$RECIPE" = cuda ] || { echo "$2"; return; }
  local kv
  for kv in ${DG_TRAIN_BATCH:-}; do [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }; done
  echo "$3"
}
# gpu ARGS...: what only the GPU recipe passes: the batch its --lr was chosen at (--lr-ref-batch B: the rate is
# scaled by sqrt(batch / B)), and the resident, bfloat16 path (the default on cuda; named for a CPU rehearsal).
gpu() { if [ "$RECIPE" = cuda ]; then echo "$@" --resident --bf16; fi; }
train() { # name threads module export args... (module: dgtrain.<module>, run from tools/train)
  local name=$1 threads=$2 module=$3 export=$4; shift 4
  if [ -f "$export.safetensors" ]; then stage "$name: done ($export.safetensors)"; return; fi
  stage "$name"
  (cd tools/train && $PY -m "dgtrain.$module" --device "$DEV" --threads "$threads" --out "$RUNS/$name" \
     --export "$export.safetensors" --budget-seconds "$(budget "$name")" "$@" > "$RUNS/$name.out" 2>&1) || { stage "$name FAILED (see $RUNS/$name.out)"; return 1; }
  stage "$name: exported $export.safetensors ($(grep -h 'done: ' "$RUNS/$name/log.txt" 2>/dev/null | tail -n 1 | sed 's/.*done: //'))"
}
# On a CPU the independent stages run side by side with one thread each (better throughput than one after
# the other with two threads); on a GPU they share it.
T=1; [ "$DEV" = cuda ] && T=2
pids=()
join() { for p in "${pids[@]}"; do wait "$p"; done; pids=(); }  # fails when any stage failed
DATA_ARGS=(--data "$DATA/train" --val "$DATA/val")
TEXT_ARGS=(--text-encoder "$MODELS/text_encoder.safetensors" --tokenizer ../../assets/tokenizer)

# 3. Contrastive text-image model (its text tower is the diffusion model's frozen text encoder),
# 4. evaluation segmenter (judges layout alignment; never used to train the generators), 5. autoencoder (its
# decoder is trained on in 9.).
train clip $T train_clip "$MODELS/clip" "${DATA_ARGS[@]}" --tokenizer ../../assets/tokenizer \
  --steps "$(steps 1000)" --batch "$(batch clip 64 256)" --lr 5e-4 --export-text "$MODELS/text_encoder" & pids+=($!)
train vae_base $T train_vae "$RUNS/vae_base" "${DATA_ARGS[@]}" --steps "$(steps 1100)" --batch "$(batch vae 8 256)" \
  $(gpu --lr-ref-batch 64) & pids+=($!)
# The segmenter feeds no later stage: it trains on alongside them and is awaited at the end. Its
# full-resolution refinement head is trained afterwards on 64x64 patches with the rest frozen.
segmenter() {
  [ -f "$MODELS/eval_segmenter.safetensors" ] || train eval_segmenter_base $T train_segmenter "$RUNS/eval_segmenter_base" \
    "${DATA_ARGS[@]}" --steps "$(steps 1500)" --batch "$(batch segmenter 16 32)" --balanced 0.5
  train eval_segmenter $T train_segmenter "$MODELS/eval_segmenter" "${DATA_ARGS[@]}" --steps "$(steps 2000)" \
    --batch "$(batch segmenter 16 32)" --lr 1e-3 --balanced 0.2 --config configs/eval_segmenter_refine.json --refine-only 64 \
    --init "$RUNS/eval_segmenter_base.safetensors"
}
segmenter & seg_pid=$!
join
# 6. UNet on cached latents, text-conditioned, 10% empty captions.
UNET_ARGS=("${DATA_ARGS[@]}" --vae "$RUNS/vae_base.safetensors" "${TEXT_ARGS[@]}" --batch "$(batch unet 32 1024)"
           $(gpu --lr-ref-batch 128))
train unet_base 2 train_unet "$RUNS/unet_base" "${UNET_ARGS[@]}" --steps "$(steps 1200)" --lr 3e-4 --warmup 200 \
  --ema 0.995
# 7. ControlNets on the same data, steps and seed: baseline (diffusion loss), ALDM (segmenter discriminator
# + K=9 unrolled DDIM steps), optionally +adversarial only; the ALDM one is the editor's default.
# DG_TRAIN_CN_STEPS fixes their step count (the schedules scale with it): a comparison needs equal steps, which a
# time budget does not give (side by side on a GPU, ALDM's steps cost 1.6x the baseline's).
CN=${DG_TRAIN_CN_STEPS:-$(steps 250)}
CN_ARGS=("${DATA_ARGS[@]}" --unet "$RUNS/unet_base.safetensors" --vae "$RUNS/vae_base.safetensors" "${TEXT_ARGS[@]}"
         --steps "$CN" --batch "$(batch controlnet 16 128)" --adv-batch "$(batch adv 4 16)" --lr 2e-4 --seed 1
         $(gpu --lr-ref-batch 32) --d-warmup $(( CN * 80 / 250 ))
         --ramp-start $(( CN * 80 / 250 )) --ramp-end $(( CN * 160 / 250 )))
train controlnet_baseline $T train_controlnet "$MODELS/controlnet_baseline" --mode baseline "${CN_ARGS[@]}" & pids+=($!)
# The "+adversarial" middle row of the comparison costs a third run: DG_TRAIN_ADV=1 adds it.
if [ "${DG_TRAIN_ADV:-0}" = 1 ]; then
  train controlnet_adv $T train_controlnet "$MODELS/controlnet_adv" --mode aldm --unroll 0 "${CN_ARGS[@]}" & pids+=($!)
fi
train controlnet_aldm $T train_controlnet "$MODELS/controlnet_aldm" --mode aldm "${CN_ARGS[@]}" & pids+=($!)
join
wait "$seg_pid"
# 8. The shipped UNet continues the one the ControlNets were trained on (they carry over: same layout
# alignment, docs/evaluation.md), as the shipped models were made across sessions.
train unet 2 train_unet "$MODELS/unet" "${UNET_ARGS[@]}" --init "$RUNS/unet_base.safetensors" \
  --steps "$(steps 3300)" --lr 2e-4 --warmup 100 --ema 0.999
# 9. The shipped autoencoder: vae_base's decoder trained on with the encoder frozen, so the latents the UNet and
# ControlNets learned stay what they were; the pixels of small objects (whose colours captions name) weigh 5x.
train vae 2 train_vae "$MODELS/vae" "${DATA_ARGS[@]}" --init "$RUNS/vae_base.safetensors" --decoder-only \
  --object-weight 4 --steps "$(steps 1500)" --batch "$(batch vae 8 256)" $(gpu --lr-ref-batch 64)

# 10. The live frame's tiny decoder (issue 22): the shipped autoencoder's decoder distilled into 183k
# parameters; the live preview decodes with it, full renders keep the VAE's.
train tiny_decoder $T train_tiny_decoder "$MODELS/tiny_decoder" "${DATA_ARGS[@]}" --vae "$MODELS/vae.safetensors" \
  --max-images 192 --val-count 32 --steps "$(steps 1250)" --eval-every 250 --log-every 50 --export-best
# 11. Style exemplars (issue 20): a micro StyleGAN2 on world images of every style (its G_ema exported, FD of
# CLIP features tracked), then the Masked Noise Encoder on that frozen generator.
train stylegan2 $T train_stylegan "$MODELS/stylegan2" --data "$DATA/train" --batch 4 --steps "$(steps 3000)" \
  --fd-clip "$MODELS/clip.safetensors" --fd-every "$(steps 500)"
train mne $T train_mne "$MODELS/mne" "${DATA_ARGS[@]}" --generator "$MODELS/stylegan2.safetensors" --mode masked \
  --perceptual "$MODELS/eval_segmenter.safetensors" --lambda-perc 0.02 --lambda-noise 0.01 --lr 1.5e-4 --batch 4 \
  --steps "$(steps 6000)" --val-every 200 --val-count 32 --export-best

# 12. The text-to-video UNet (issue 19, docs/train-video-models.md): the shipped UNet inflated with
# VideoCrafter2's temporal layers (zero on their outputs), trained on the world's 16-frame clips (all four
# transition kinds) with each clip's overall caption, spatial layers frozen. DG_TRAIN_CLIPS (default 512) clips.
VDATA=$(dirname "$DATA")/video
for split_count in train:${DG_TRAIN_CLIPS:-512} val:16; do
  split=${split_count%%:*} count=${split_count##*:}
  stage "world video clips $split ($count)"
  "$CLI" world dataset --split "$split" --count "$count" --video --frames 16 \
    --threads "${DG_TRAIN_WORLD_THREADS:-2}" --out "$VDATA/$split"
done
train video $T train_video "$RUNS/video_full" --data "$VDATA/train" --val "$VDATA/val" \
  --init "$MODELS/unet.safetensors" --vae "$MODELS/vae.safetensors" "${TEXT_ARGS[@]}" --steps "$(steps 2000)" \
  --batch "$(batch video 2 64)" --lr 2e-4 --warmup 20 --ema 0.99 --fps 8 $(gpu --lr-ref-batch 8)

# Shipped as float16 (half the size, same images to ~0.01 of a level). The video model ships as its temporal
# layers only (video_unet.safetensors), over the shipped unet.safetensors it names by SHA-256.
(cd tools/train && $PY -m dgtrain.to_f16 "$MODELS"/*.safetensors &&
   $PY -m dgtrain.export_video_checkpoint "$RUNS/video_full.safetensors" "$MODELS/video_unet.safetensors" \
     --over "$MODELS/unet.safetensors" && $PY -m dgtrain.to_f16 "$MODELS/video_unet.safetensors")
stage "all default models trained"
