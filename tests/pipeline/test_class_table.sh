#!/bin/sh
# test_class_table on the shipped model: its ALDM ControlNet copied without 'dirigent.class_embeddings'.
bin="$1" model="$2" out="$3" edit="$4"
[ -e "$model/controlnet_aldm.safetensors" ] || { echo "skip: no shipped model"; exit 77; }
mkdir -p "$out" && rm -rf "$out/m" && mkdir -p "$out/m" || exit 1
cp "$model/controlnet_aldm.safetensors" "$out/m/" || exit 1
/usr/bin/python3 "$edit" "$out/m" "$out/stripped" drop controlnet_aldm dirigent.class_embeddings || exit 1
exec "$bin" "$model" "$out/stripped/controlnet_aldm.safetensors" "$model/../tokenizer"
