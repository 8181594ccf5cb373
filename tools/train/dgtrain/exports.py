"""The file convention of every exported model: PATH.safetensors (weights in single-file naming) with
PATH.json beside it (the model's config plus the record of how it was made), and the readers of it."""
import functools
import hashlib
import json
import os

from . import safetensors_io

RECORD_KEYS = ("training", "init")  # how a model was made, not what it is: never carried over from another record


def export_paths(export):
    """--export X or X.safetensors -> (X.safetensors, X.json); the folder is created."""
    base = export[:-len(".safetensors")] if export.endswith(".safetensors") else export
    d = os.path.dirname(base)
    if d:
        os.makedirs(d, exist_ok=True)
    return base + ".safetensors", base + ".json"


def export(path, state, prefix, config, metadata=None):
    """Writes PATH (safetensors, keys = prefix + LDM names, float32) and PATH with .json: the config plus the
    metadata (this export's record, which replaces any record keys a config read from another export holds).
    Returns the JSON path."""
    path, cfg_path = export_paths(path)
    tensors = {prefix + k: v.detach().float().cpu().contiguous() for k, v in state.items()}
    config = {k: v for k, v in config.items() if k not in RECORD_KEYS}
    meta = dict(metadata or {})
    meta["config"] = json.dumps(config, allow_nan=False)
    write_record(cfg_path, dict(config, **(metadata or {})))
    safetensors_io.save(tensors, path, metadata=meta)
    return cfg_path


def write_record(path, record):
    """A model's JSON record; NaN or infinity is refused before the file is touched (the engine's parser refuses
    them too, so such a file would only fail later, far from its cause). Exporters write it before the weights,
    so a refused record leaves both files as they were."""
    text = json.dumps(record, indent=1, allow_nan=False)
    with open(path, "w") as f:
        f.write(text)


def load_prefixed(path, prefix):
    """State dict of a single-file safetensors with the prefix removed (keys without it are skipped). A layers
    file (metadata "dirigent.base", "dirigent.base_sha256": the shipped video UNet's temporal layers) comes with
    its base's tensors, as the engine reads it (render/io/dg_weights.c)."""
    sd, meta = safetensors_io.load(path)
    base = meta.get("dirigent.base")
    if base:
        if "/" in base or base in (".", ".."):
            raise ValueError(f"{path}: dirigent.base {base!r} is not a file name in the same folder")
        base_path = os.path.join(os.path.dirname(path), base)
        with open(base_path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != meta.get("dirigent.base_sha256", "").lower():
            raise ValueError(f"{path}: its layers were trained over {base_path} with SHA-256 "
                             f"{meta.get('dirigent.base_sha256')}, but that file is now {digest}")
        base_sd, _ = safetensors_io.load(base_path)
        both = sorted(set(sd) & set(base_sd))
        if both:
            raise ValueError(f"{path}: {both[0]} is in it and in its base {base_path}")
        sd = dict(base_sd, **sd)
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}, meta


def load_json_beside(path, config=None):
    """The config JSON given, else PATH with .json, else the "config" metadata of the safetensors file."""
    cfg_path = config or os.path.splitext(path)[0] + ".json"
    if not config and not os.path.exists(cfg_path) and path.endswith(".safetensors"):
        meta = safetensors_io.load(path)[1]
        if "config" in meta:
            return json.loads(meta["config"])
    with open(cfg_path) as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def file_digest(path):
    """sha1 of a file's bytes: a cache key that survives rewriting the same weights (to_f16, a fresh clone)."""
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()
