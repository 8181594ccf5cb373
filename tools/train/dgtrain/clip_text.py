"""CLIP text transformer with Hugging Face CLIPTextModel parameter names (`text_model.embeddings...`,
`text_model.encoder.layers.N...`, `text_model.final_layer_norm`), so SD 1.5's text encoder
(`cond_stage_model.transformer.` + these names in a single-file checkpoint) and our small one are the same
code with different configs.

Per layer (pre-LN): x += out_proj(attn(layer_norm1(x))) with a causal mask and q scaled by head_dim^-0.5;
x += fc2(quick_gelu(fc1(layer_norm2(x)))). After the last layer: final_layer_norm -> last_hidden_state.
Pooled output: last_hidden_state at the EOT position, found as argmax(ids) (HF's rule; EOT has the largest id).
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from . import config

SD15 = {"vocab_size": 49408, "width": 768, "layers": 12, "heads": 12, "mlp": 3072, "max_len": 77,
        "eps": 1e-5, "act": "quick_gelu"}
# Our default text tower: width 256 = the small UNet's context_dim (ldm_unet.DEFAULT_SMALL).
# vocab_size is replaced by the tokenizer's at training time.
DEFAULT_SMALL = {"vocab_size": 2048, "width": 256, "layers": 3, "heads": 4, "mlp": 1024, "max_len": 77,
                 "eps": 1e-5, "act": "quick_gelu"}

CKPT_PREFIX = "cond_stage_model.transformer."  # single-file LDM checkpoints


def load_config(path_or_dict):
    cfg = config.merged(path_or_dict, SD15)
    if cfg["width"] % cfg["heads"]:
        raise ValueError(f"clip_text: width {cfg['width']} is not divisible by heads {cfg['heads']}")
    return cfg


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def causal_mask(n, device=None, dtype=torch.float32):
    """[n, n] additive mask: 0 on and below the diagonal, -inf above (token i sees tokens <= i)."""
    return torch.full((n, n), float("-inf"), device=device, dtype=dtype).triu_(1)


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.scale = (width // heads) ** -0.5
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, mask):
        b, n, c = x.shape
        h = self.heads
        q = (self.q_proj(x) * self.scale).view(b, n, h, c // h).transpose(1, 2)
        k = self.k_proj(x).view(b, n, h, c // h).transpose(1, 2)
        v = self.v_proj(x).view(b, n, h, c // h).transpose(1, 2)
        w = torch.softmax(q @ k.transpose(-1, -2) + mask, dim=-1)
        return self.out_proj((w @ v).transpose(1, 2).reshape(b, n, c))


class MLP(nn.Module):
    def __init__(self, width, hidden, act):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)
        self.act = quick_gelu if act == "quick_gelu" else F.gelu

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg["width"], cfg["heads"])
        self.layer_norm1 = nn.LayerNorm(cfg["width"], eps=cfg["eps"])
        self.mlp = MLP(cfg["width"], cfg["mlp"], cfg["act"])
        self.layer_norm2 = nn.LayerNorm(cfg["width"], eps=cfg["eps"])

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.token_embedding = nn.Embedding(cfg["vocab_size"], cfg["width"])
        self.position_embedding = nn.Embedding(cfg["max_len"], cfg["width"])

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        return self.token_embedding(ids) + self.position_embedding(pos)[None]


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg["layers"])])


class TextTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = Embeddings(cfg)
        self.encoder = Encoder(cfg)
        self.final_layer_norm = nn.LayerNorm(cfg["width"], eps=cfg["eps"])


class ClipTextModel(nn.Module):
    """forward(ids [B,T<=77]) -> (last_hidden_state [B,T,width], pooled [B,width]).

    Because of the causal mask, the first n outputs do not depend on tokens after n: training may feed
    ids cut after the last EOT of the batch and get exactly the states of the full 77-token input."""

    def __init__(self, cfg=None):
        super().__init__()
        self.config = load_config(cfg or {})
        self.text_model = TextTransformer(self.config)
        self.init_weights()

    def init_weights(self):
        """CLIP's initialisation (std 0.02 embeddings, width^-0.5-scaled projections)."""
        c = self.config
        w, n = c["width"], c["layers"]
        nn.init.normal_(self.text_model.embeddings.token_embedding.weight, std=0.02)
        nn.init.normal_(self.text_model.embeddings.position_embedding.weight, std=0.01)
        attn_std = w ** -0.5
        proj_std = w ** -0.5 * (2 * n) ** -0.5
        for layer in self.text_model.encoder.layers:
            for lin in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                nn.init.normal_(lin.weight, std=attn_std)
                nn.init.zeros_(lin.bias)
            nn.init.normal_(layer.self_attn.out_proj.weight, std=proj_std)
            nn.init.zeros_(layer.self_attn.out_proj.bias)
            nn.init.normal_(layer.mlp.fc1.weight, std=(2 * w) ** -0.5)
            nn.init.zeros_(layer.mlp.fc1.bias)
            nn.init.normal_(layer.mlp.fc2.weight, std=proj_std)
            nn.init.zeros_(layer.mlp.fc2.bias)

    def forward(self, ids, hidden_layer=None):
        """hidden_layer: None = output of the last layer; -2 = the one before ("clip skip"), etc.
        The final layer norm is applied in every case."""
        if ids.shape[1] > self.config["max_len"]:
            raise ValueError(f"clip_text: {ids.shape[1]} tokens exceed max_len {self.config['max_len']}")
        tm = self.text_model
        x = tm.embeddings(ids)
        mask = causal_mask(ids.shape[1], x.device, x.dtype)
        layers = tm.encoder.layers
        stop = len(layers) if hidden_layer is None else len(layers) + 1 + hidden_layer
        for layer in layers[:stop]:
            x = layer(x, mask)
        x = tm.final_layer_norm(x)
        pooled = x[torch.arange(x.shape[0], device=x.device), ids.argmax(dim=-1)]
        return x, pooled

    # -- weights -----------------------------------------------------------------------------------

    def ldm_state_dict(self):
        """State dict in single-file checkpoint naming (cond_stage_model.transformer.text_model....)."""
        return {CKPT_PREFIX + k: v for k, v in self.state_dict().items()}

    def load_any_state_dict(self, sd, strict=True):
        """Accepts HF names (text_model....), single-file names (cond_stage_model.transformer.text_model....),
        ignoring HF's position_ids buffer."""
        own = {}
        for k, v in sd.items():
            if k.startswith(CKPT_PREFIX):
                k = k[len(CKPT_PREFIX):]
            elif not k.startswith("text_model."):
                continue
            if k.endswith("embeddings.position_ids"):
                continue
            own[k] = v
        return self.load_state_dict(own, strict=strict)


def save_text_encoder(model, weights_path, config_path=None, metadata=None):
    from .safetensors_io import save
    if config_path:  # the record first (write_record)
        from .exports import write_record
        write_record(config_path, model.config)
    save(model.ldm_state_dict(), weights_path, metadata)


def load_text_encoder(weights_path, config):
    """config: text config dict or JSON path; a contrastive-model config ({"text": {...}, ...}) also works."""
    from .safetensors_io import load
    if not isinstance(config, dict):
        with open(config) as f:
            config = json.load(f)
    if isinstance(config.get("text"), dict):
        config = config["text"]
    model = ClipTextModel(config)
    sd, _ = load(weights_path)
    model.load_any_state_dict(sd)
    return model


class TextCond:
    """Frozen CLIP text tower + tokenizer: captions -> last_hidden_state [B,77,D], cached per caption (f16)."""

    def __init__(self, weights, tokenizer_dir, config=None, device="cpu", cache_max=20000):
        from .exports import load_json_beside
        from .tokenizer import Tokenizer
        cfg = load_json_beside(weights, config)
        self.model = load_text_encoder(weights, cfg).eval().to(device)
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tok = Tokenizer.from_dir(tokenizer_dir)
        self.device, self.cache, self.cache_max = device, {}, cache_max
        self.dim = self.model.config["width"]

    @torch.no_grad()
    def __call__(self, captions):
        missing = [c for c in dict.fromkeys(captions) if c not in self.cache]
        if missing:
            h, _ = self.model(self.tok(missing).to(self.device))
            for c, v in zip(missing, h):
                if len(self.cache) < self.cache_max:
                    self.cache[c] = v.half().cpu()
            if len(self.cache) >= self.cache_max:
                fresh = dict(zip(missing, h))
                return torch.stack([fresh[c].float() if c in fresh else self.cache[c].float().to(self.device)
                                    for c in captions]).to(self.device)
        return torch.stack([self.cache[c] for c in captions]).float().to(self.device)

    @torch.no_grad()
    def pooled(self, texts):
        _, p = self.model(self.tok(texts).to(self.device))
        return p
