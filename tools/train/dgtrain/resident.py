"""The GPU path's training set (--resident): everything a step reads is put on the device once (latents, the
text embedding of every caption, images and layouts as uint8), and a batch is gathered there by index
(plumbing.Batches with a device), so a step launches kernels and never waits for the host: no data loader, no
per-step tokenising, stacking or copying. On the CPU it works the same (and gives the same batches for a seed),
which is how the tests and the lease's rehearsal run it."""
import multiprocessing
import os

import torch

from .controlnet import id_hint_index

_TOKENIZER = None  # the tokenizer the forked workers of token_ids use


def _encode(text):
    return _TOKENIZER.encode(text)


def token_ids(tok, texts, workers=None, serial_below=4096):
    """[len(texts), 77] token ids; a long list is tokenised by forked worker processes (the tokenizer is pure
    Python: 0.1-0.3 ms a caption, so 150k distinct captions take seconds on 16 cores instead of most of a minute)."""
    global _TOKENIZER
    workers = workers or min(16, len(os.sched_getaffinity(0)))
    if workers <= 1 or len(texts) < serial_below:
        return tok(texts)
    _TOKENIZER = tok
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        ids = pool.map(_encode, texts, chunksize=512)
    return torch.tensor(ids, dtype=torch.long)


class Captions:
    """Every caption of a training set encoded once by the frozen text tower (clip_text.TextCond): a table of
    last hidden states [U, 77, D] on the device (float16, as TextCond caches them; id 0 is the empty caption
    of classifier-free guidance), and per image the ids of its captions."""

    def __init__(self, captions, text, device, batch=256, dtype=torch.float16):
        ids = {"": 0}
        for caps in captions:
            for c in caps:
                ids.setdefault(c, len(ids))
        texts = list(ids)
        self.texts = texts  # caption id -> text (train_unet --attn-loss maps its tokens to classes)
        width = max(len(c) for c in captions)
        self.ids = torch.tensor([[ids[c] for c in caps] + [ids[caps[0]]] * (width - len(caps)) for caps in captions],
                                dtype=torch.long, device=device)
        self.counts = torch.tensor([len(caps) for caps in captions], dtype=torch.float32, device=device)
        tokens = token_ids(text.tok, texts)
        with torch.no_grad():
            parts = [text.model(tokens[s:s + batch].to(device))[0].to(dtype) for s in range(0, len(texts), batch)]
        self.table = torch.cat(parts)

    @property
    def nbytes(self):
        return self.table.numel() * self.table.element_size()

    def __len__(self):
        return self.table.shape[0]

    def draw(self, idx, gen, drop=0.0, with_ids=False):
        """Contexts [B, 77, D] (float32) of one random caption of each image idx [B] (a device tensor), the empty
        caption with probability `drop`; all draws from the device generator `gen`. With `with_ids`, (contexts,
        the caption ids [B] into self.texts)."""
        n = idx.shape[0]
        k = (torch.rand(n, generator=gen, device=idx.device) * self.counts[idx]).long()
        cid = self.ids[idx, k]
        if drop > 0:
            cid = cid.masked_fill(torch.rand(n, generator=gen, device=idx.device) < drop, 0)
        return (self.table[cid].float(), cid) if with_ids else self.table[cid].float()


def to_device(t, device, chunk=4096):
    """A (large, uint8) host tensor on the device, copied in chunks (no second full-size host copy)."""
    out = torch.empty(t.shape, dtype=t.dtype, device=device)
    for s in range(0, t.shape[0], chunk):
        out[s:s + chunk] = t[s:s + chunk].to(device)
    return out


def layout_index(labels, n_classes, size, device, chunk=1024):
    """The id hint's per-pixel table rows (controlnet.id_hint_index) of every layout [N, H, W] at `size`, as uint8
    on the device: a step's hint is then table[index[idx]] (one gather) instead of a resize of full layouts."""
    out = torch.empty((labels.shape[0],) + tuple(size), dtype=torch.uint8, device=device)
    for s in range(0, labels.shape[0], chunk):
        out[s:s + chunk] = id_hint_index(labels[s:s + chunk].to(device).long(), n_classes, size).to(torch.uint8)
    return out


def image_batch(images, labels, idx, hflip=False, gen=None):
    """(images float [-1,1], labels int64) of idx from uint8 device tensors (either may be None: not kept), each
    flipped left-right with probability 1/2 when hflip (draws from the device generator `gen`)."""
    img = images[idx].float() / 127.5 - 1.0 if images is not None else None
    lab = labels[idx].long() if labels is not None else None
    if hflip:
        flip = torch.rand(idx.shape[0], generator=gen, device=idx.device) < 0.5
        if img is not None:
            img = torch.where(flip[:, None, None, None], img.flip(-1), img)
        if lab is not None:
            lab = torch.where(flip[:, None, None], lab.flip(-1), lab)
    return img, lab


def megabytes(*tensors):
    return sum(t.numel() * t.element_size() for t in tensors if t is not None) / 2 ** 20
