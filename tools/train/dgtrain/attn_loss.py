"""Token-level grounding loss on the UNet's text cross-attention (train_unet --attn-loss; in the spirit of
TokenCompose): for each caption token that names an object class present in the image, the token's
cross-attention map (attn2 softmax, mean over heads and the chosen layers), normalised over pixels, should put
its mass inside the class's mask: L = (1 - sum_pixels(a * mask))^2, averaged over every (item, token, class)
pair of the batch. With a pixel weight P, each pair also adds P x the binary cross-entropy between the token's
unnormalised attention (its share of each pixel's softmax over the text) and the mask, as TokenCompose's pixel
loss does: the token loss alone is met by maps of any overall size, and training with it alone moved nearly
all attention to the start token (the prompt's share 0.18 -> 0.004) while sharpening each token's map.

Token -> class: a caption role's "object" character span, with its "class" (world index) or else the span's
text when it is a palette class name (synthetic test data); every BPE token overlapping the span is marked.
Masks: the fraction of each attention cell's pixels of the class (label PNG, area-averaged), binarised as
fraction > 0 (any pixel of the class in the cell)."""
import torch
import torch.nn.functional as F

from .world_data import load_palette, read_index


def caption_roles(roots):
    """{caption text: [(start, end, class name), ...]} of the index files of the dataset folders `roots`."""
    out = {}
    for root in roots:
        for e in read_index(root):
            for c in e.get("captions", []) or []:
                roles = []
                for r in c.get("roles", []) or []:
                    s, t = r["object"]
                    roles.append((s, t, r.get("class") or c["text"][s:t]))
                out.setdefault(c["text"], roles)
    return out


class TokenClasses:
    """Caption text -> [(token position, class id), ...] (cached): every token of a role's object word whose
    class is in the palette."""

    def __init__(self, tok, roles, names):
        self.tok, self.roles, self.ids, self.cache = tok, roles, {n: k for k, n in enumerate(names)}, {}

    def __call__(self, text):
        if text not in self.cache:
            from .tokenizer import tokens_in_span
            pairs = []
            if text:
                _, spans = self.tok.encode_with_spans(text)
                for s, e, name in self.roles.get(text, []):
                    cid = self.ids.get(name)
                    if cid is not None:
                        pairs += [(p, cid) for p in tokens_in_span(spans, (s, e))]
            self.cache[text] = pairs
        return self.cache[text]


@torch.no_grad()
def class_fractions(labels, classes, size, chunk=256):
    """uint8 labels [N,H,W] -> float16 [N, classes, h, w]: fraction of each cell's pixels of each class (255 and
    other ids >= classes count as no class)."""
    out = torch.empty((len(labels), classes) + tuple(size), dtype=torch.float16)
    for s in range(0, len(labels), chunk):
        lab = labels[s:s + chunk].long()
        lab = torch.where(lab < classes, lab, torch.full_like(lab, classes))
        oh = F.one_hot(lab, classes + 1)[..., :classes].permute(0, 3, 1, 2).float()
        out[s:s + chunk] = F.adaptive_avg_pool2d(oh, size).half()
    return out


def cross_attn_layers(unet):
    return [m for name, m in unet.named_modules() if name.endswith("attn2")]


def chosen_layers(unet, z_shape, ctx_dim, device, levels=None):
    """The attn2 layers at the finest latent resolution with cross-attention (largest query length), or those
    whose query length is in `levels`; and that resolution's (h, w)."""
    layers = cross_attn_layers(unet)
    for m in layers:
        m.keep_attn = True
    was = unet.training
    unet.eval()
    with torch.no_grad():
        unet(torch.zeros((1,) + tuple(z_shape), device=device), torch.zeros(1, device=device, dtype=torch.long),
             torch.zeros(1, 77, ctx_dim, device=device))
    unet.train(was)
    lens = {m: m.last_attn.shape[2] for m in layers}
    for m in layers:
        m.keep_attn, m.last_attn = False, None
    want = set(levels) if levels else {max(lens.values())}
    chosen = [m for m in layers if lens[m] in want]
    if not chosen:
        raise SystemExit(f"--attn-loss-levels {sorted(want)}: the UNet's cross-attention query lengths are "
                         f"{sorted(set(lens.values()))}")
    n = max(lens[m] for m in chosen)
    f = round((z_shape[1] * z_shape[2] / n) ** 0.5)
    return chosen, (z_shape[1] // f, z_shape[2] // f)


def mean_attention(layers, size):
    """Kept softmaxes of `layers` at query length h*w, averaged over heads and layers -> [B, h*w, M] float."""
    n = size[0] * size[1]
    maps = [m.last_attn.float().mean(1) for m in layers if m.last_attn.shape[2] == n]
    return torch.stack(maps).mean(0)


def pair_losses(raw, m, pixel):
    """raw [..., P] (tokens' attention per pixel), m [..., P] masks -> per pair (1 - inside)^2 (+ pixel x BCE)."""
    a = raw / raw.sum(-1, keepdim=True).clamp_min(1e-12)
    per = (1 - (a * m).sum(-1)) ** 2
    if pixel:
        r = raw.clamp(1e-6, 1 - 1e-6)
        per = per - pixel * (m * r.log() + (1 - m) * (1 - r).log()).mean(-1)
    return per


def token_loss(attn, masks, pairs, pixel=0.0):
    """attn [B, P, M] (cross-attention per pixel over tokens), masks [B, C, P] (1 inside class c), pairs
    [(b, token, class)] -> mean over pairs of (1 - sum_p a * mask)^2 with a = attn[b, :, token] normalised over
    pixels, plus `pixel` x the BCE of attn[b, :, token] against the mask; None without pairs."""
    if not pairs:
        return None
    b, i, c = (torch.tensor(v, device=attn.device) for v in zip(*pairs))
    return pair_losses(attn[b, :, i], masks[b, c].to(attn.dtype), pixel).mean()  # attn[b, :, i]: [K, P]


def padded_pairs(pairs_of, texts, device=None):
    """Per text of `texts`, its (token, class) pairs as padded tensors (tokens [U,K], classes [U,K], valid [U,K]),
    for drawing a batch's pairs on a device by caption id."""
    lists = [pairs_of(t) for t in texts]
    k = max([1] + [len(p) for p in lists])
    tok = torch.zeros((len(texts), k), dtype=torch.long)
    cls = torch.zeros((len(texts), k), dtype=torch.long)
    valid = torch.zeros((len(texts), k), dtype=torch.bool)
    for u, p in enumerate(lists):
        if p:
            tok[u, :len(p)] = torch.tensor([a for a, _ in p])
            cls[u, :len(p)] = torch.tensor([c for _, c in p])
            valid[u, :len(p)] = True
    return tok.to(device), cls.to(device), valid.to(device)


def token_loss_padded(attn, masks, tok, cls, valid, pixel=0.0):
    """token_loss with the pairs as tensors (no host sync): attn [B,P,M], masks [B,C,P], tok/cls/valid [B,K] ->
    mean over the valid pairs (0 when there are none)."""
    P = attn.shape[1]
    raw = attn.gather(2, tok[:, None, :].expand(-1, P, -1)).transpose(1, 2)  # [B,K,P]
    m = masks.gather(1, cls[:, :, None].expand(-1, -1, P)).to(raw.dtype)
    per = pair_losses(raw, m, pixel)
    v = valid.to(raw.dtype)
    return (per * v).sum() / v.sum().clamp_min(1)


class AttnLoss:
    """What train_unet needs: the layers, per-image class masks at their resolution (computed once), the token
    map; `pairs(idx, captions)` and `__call__()` after a forward."""

    def __init__(self, unet, data, roots, tok, z_shape, ctx_dim, device, levels=None, log=print, texts=None,
                 pixel=0.0):
        names = load_palette()["names"]
        self.pixel = pixel
        self.layers, self.size = chosen_layers(unet, z_shape, ctx_dim, device, levels)
        self.tokens = TokenClasses(tok, caption_roles(roots), names)
        self.frac = class_fractions(data.labels, len(names), self.size)
        self.device = device
        self.table = None
        if texts is not None:  # the resident path: masks and each caption id's pairs on the device
            self.frac = self.frac.to(device)
            self.table = padded_pairs(self.tokens, texts, device)
        log(f"attn loss: {len(self.layers)} attn2 layers at {self.size[0]}x{self.size[1]}, masks "
            f"{tuple(self.frac.shape)}")

    def keep(self, on):
        for m in self.layers:
            m.keep_attn = on
            if not on:
                m.last_attn = None

    def pairs(self, captions):
        return [(k, p, c) for k, cap in enumerate(captions) for p, c in self.tokens(cap)]

    def __call__(self, idx, captions):
        masks = self.frac[idx].flatten(2) > 0  # [B, C, P], on the host (pairs of absent classes are skipped)
        present = masks.any(-1)
        pairs = [(b, p, c) for b, p, c in self.pairs(captions) if present[b, c]]
        return token_loss(mean_attention(self.layers, self.size), masks.to(self.device), pairs, self.pixel)

    def by_ids(self, idx, cid):
        """The resident path's loss: images idx and caption ids cid (device tensors); 0 without pairs."""
        masks = self.frac[idx].flatten(2) > 0
        tok, cls, valid = (t[cid] for t in self.table)
        valid = valid & masks.any(-1).gather(1, cls)
        return token_loss_padded(mean_attention(self.layers, self.size), masks, tok, cls, valid, self.pixel)
