"""VAE latents of a training set, encoded once and cached beside the run folders (shared by the UNet and
ControlNet trainers and by every run on the same autoencoder and data)."""
import functools
import hashlib
import os

import torch

from .exports import load_json_beside, load_prefixed


@functools.lru_cache(maxsize=None)
def encoder_digest(vae_path):
    """sha1 of what a VAE's latents depend on (encoder and quant_conv weights, scale factor): a latent cache keyed
    on it survives training the decoder alone."""
    sd, _ = load_prefixed(vae_path, "first_stage_model.")
    h = hashlib.sha1(repr(load_json_beside(vae_path).get("scale_factor")).encode())
    for k in sorted(sd):
        if k.startswith(("encoder.", "quant_conv.")):
            h.update(k.encode())
            h.update(sd[k].float().numpy().tobytes())
    return h.hexdigest()


CHUNK = 1024  # images per resumable chunk of encode_latents (a multiple of its batch)


@torch.no_grad()
def encode_latents(vae, data, device, batch=None, flip=False, partial=None):
    """Scaled posterior means [N,C,h,w] (on the CPU) of a WorldTensors' images (batches of 16 on the CPU, 256 on
    a GPU); with `partial` (a path prefix), each finished chunk of CHUNK images is kept as PARTIAL.K, so a run
    killed while encoding resumes where it stopped."""
    batch = batch or (16 if torch.device(device).type == "cpu" else 256)
    chunks = []
    while partial and os.path.exists(f"{partial}.{len(chunks)}"):
        chunks.append(torch.load(f"{partial}.{len(chunks)}"))
    cur = []
    for s in range(len(chunks) * CHUNK, len(data), batch):
        x = data.images[s:s + batch].float().to(device) / 127.5 - 1.0
        if flip:
            x = x.flip(-1)
        cur.append((vae.encode(x) * vae.scale_factor).cpu())
        if partial and (s + batch) % CHUNK == 0:
            chunks.append(torch.cat(cur))
            cur = []
            torch.save(chunks[-1], f"{partial}.tmp")
            os.replace(f"{partial}.tmp", f"{partial}.{len(chunks) - 1}")
    return torch.cat(chunks + cur)


def remove_partial(partial):
    """The chunk files encode_latents kept under `partial`."""
    k = 0
    while os.path.exists(f"{partial}.{k}"):
        os.remove(f"{partial}.{k}")
        k += 1


def cached_latents(args, vae, data, device, tag, only=None):
    """Latents of the training images, cached beside the run folder (shared by the runs of one VAE and data).
    With `only` (the indices a run will draw), a cache of every image is used when there is one; otherwise just
    those are encoded (the rest stay zero): a 250-step ControlNet run sees 4000 of 20k images. A mix of datasets
    (world_data.concat) is cached per dataset, so each dataset's latents are shared by every mix it is in.
    Reads args.vae (the VAE file, whose encoder keys the cache) and args.out (the run folder)."""
    if getattr(data, "parts", None):
        out, start = [], 0
        for n in data.parts:
            sub = ([i - start for i in only if start <= i < start + n] or [0]) if only is not None else None
            out.append(cached_latents(args, vae, data.subset(range(start, start + n)), device, tag, sub))
            start += n
        return torch.cat(out)
    key = (encoder_digest(args.vae), len(data), data.ids[0], data.ids[-1])

    def path_of(k):
        digest = hashlib.sha1(repr(k).encode()).hexdigest()[:12]
        return os.path.join(os.path.dirname(os.path.abspath(args.out)), f"latents_{tag}_{digest}.pt")

    only = sorted(set(only)) if only is not None and len(set(only)) < len(data) else None
    keys = [key] + ([key + (hashlib.sha1(repr(only).encode()).hexdigest(),)] if only is not None else [])
    for k in keys:
        if os.path.exists(path_of(k)):
            c = torch.load(path_of(k))
            if c["key"] == k:
                return c["z"]
    path = path_of(keys[-1])
    if only is None:
        z = encode_latents(vae, data, device, partial=path + ".partial")
    else:
        part = encode_latents(vae, data.subset(only), device, partial=path + ".partial")
        z = torch.zeros((len(data),) + tuple(part.shape[1:]))
        z[only] = part
    torch.save({"key": keys[-1], "z": z}, path + f".{os.getpid()}.tmp")
    os.replace(path + f".{os.getpid()}.tmp", path)
    remove_partial(path + ".partial")
    return z
