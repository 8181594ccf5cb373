"""ControlNet in LDM/cldm naming (cldm/cldm.py): a trainable copy of the UNet encoder and middle block
(`time_embed`, `input_blocks`, `middle_block`), a hint network `input_hint_block`, zero 1x1 convs
`zero_convs.N.0` on each input block output and `middle_block_out.0`. Two hint networks:

- "color" (stock ControlNet): hint image [B,3,8h,8w] -> 16 -> 16 -> 32(s2) -> 32 -> 96(s2) -> 96 -> 256(s2)
  -> zero conv to model_channels; indices 0..14 even.
- "id" (ALDM): per-pixel class text embeddings [B,D,2h,2w] -> D -> 512 -> 256(s2) -> 256 -> zero conv to
  model_channels; indices 0..8 even.

`hint_layers` in the config lists (out_channels, stride) of every conv before the final zero conv, so the
widths scale with the model; the defaults below are the SD 1.5 ones."""
import torch
import torch.nn as nn

from .ldm_unet import SD15, TimestepEmbedSequential, build_encoder, load_config, timestep_embedding, zero_module

STOCK_HINT = [[16, 1], [16, 1], [32, 2], [32, 1], [96, 2], [96, 1], [256, 2]]


def aldm_hint_layers(d):
    return [[d, 1], [512, 1], [256, 2], [256, 1]]


SD15_COLOR = dict(SD15, hint_mode="color", hint_channels=3, hint_layers=STOCK_HINT)
SD15_ID = dict(SD15, hint_mode="id", hint_channels=768, hint_layers=aldm_hint_layers(768))


def small_config(unet_cfg, mode="id", embed_dim=None):
    """ControlNet config for a small UNet: the UNet's encoder plus a hint network with widths scaled to it."""
    cfg = dict(unet_cfg)
    mc = cfg["model_channels"]
    if mode == "id":
        d = embed_dim or cfg["context_dim"]
        # ALDM: D -> D -> 512 -> 256 (s2) -> 256 -> zero 320; here the first width is capped at model_channels,
        # since a D -> D 3x3 conv at 2x latent resolution would cost more than the whole small UNet.
        cfg.update(hint_mode="id", hint_channels=d, hint_layers=[[min(d, mc), 1], [2 * mc, 1], [mc, 2], [mc, 1]])
    else:
        cfg.update(hint_mode="color", hint_channels=3,
                   hint_layers=[[16, 1], [16, 1], [32, 2], [32, 1], [64, 2], [64, 1], [mc, 2]])
    return cfg


class ControlNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        cfg = load_config(cfg)
        self.cfg = cfg
        chans, ch, _ = build_encoder(self, cfg)
        layers, cin = [], cfg["hint_channels"]
        for cout, stride in cfg["hint_layers"]:
            layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.SiLU()]
            cin = cout
        layers.append(zero_module(nn.Conv2d(cin, cfg["model_channels"], 3, padding=1)))
        self.input_hint_block = TimestepEmbedSequential(*layers)
        self.zero_convs = nn.ModuleList([TimestepEmbedSequential(zero_module(nn.Conv2d(c, c, 1))) for c in chans])
        self.middle_block_out = TimestepEmbedSequential(zero_module(nn.Conv2d(ch, ch, 1)))

    def load_from_unet(self, unet):
        """Initialises the encoder copy from a UNet (ControlNet's standard initialisation)."""
        own = self.state_dict()
        src = {k: v for k, v in unet.state_dict().items()
               if k.split(".")[0] in ("time_embed", "input_blocks", "middle_block")}
        for k, v in src.items():
            if k in own and own[k].shape == v.shape:
                own[k] = v.clone()
        self.load_state_dict(own)

    def forward(self, x, hint, t, context, scales=None):
        """Returns the len(input_blocks)+1 residuals (13 for SD layouts), times `scales` (default 1.0)."""
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        emb = self.time_embed(timestep_embedding(t, self.cfg["model_channels"]).to(x.dtype))
        guided = self.input_hint_block(hint, emb, context)
        outs, h = [], x
        for i, (module, zc) in enumerate(zip(self.input_blocks, self.zero_convs)):
            h = module(h, emb, context)
            if i == 0:
                h = h + guided
            outs.append(zc(h, emb, context))
        h = self.middle_block(h, emb, context)
        outs.append(self.middle_block_out(h, emb, context))
        if scales is not None:
            outs = [o * s for o, s in zip(outs, scales)]
        return outs


def id_hint(label, table, size):
    """ALDM's "id" layout input: label [B,H,W] int64 (255 = unlabelled) -> per-pixel class embeddings
    [B,D,h,w] at `size` = (h, w) (nearest resize). table [N+1, D]: the N class embeddings with the null
    embedding last (unlabelled pixels map to it)."""
    return id_hint_of_index(id_hint_index(label, table.shape[0] - 1, size), table)


def id_hint_index(label, n_classes, size):
    """The table row of each pixel of the id hint: label [B,H,W] nearest-resized to `size`, unlabelled and
    out-of-range pixels mapped to the null row n_classes."""
    lab = label.clone()
    lab[(lab < 0) | (lab >= n_classes)] = n_classes
    return torch.nn.functional.interpolate(lab[:, None].float(), size=size, mode="nearest")[:, 0].long()


def id_hint_of_index(index, table):
    """[B,D,h,w] class embeddings of the rows `index` [B,h,w] (any integer dtype)."""
    return table[index.long()].permute(0, 3, 1, 2).contiguous()


def colour_hint(label, colors):
    """The stock "color" layout input: palette colours [B,3,H,W] in [0,1]; unlabelled pixels black."""
    pal = torch.cat([colors.float() / 255.0, torch.zeros(1, 3)]).to(label.device)
    lab = label.clone()
    lab[(lab < 0) | (lab >= colors.shape[0])] = colors.shape[0]
    return pal[lab].permute(0, 3, 1, 2).contiguous()


def load_controlnet(path):
    """(ControlNet, config, class-embedding table or None) from an exported ControlNet (frozen, eval mode)."""
    from .exports import load_json_beside, load_prefixed
    sd, _ = load_prefixed(path, "control_model.")
    cfg = load_json_beside(path)
    cn = ControlNet({k: v for k, v in cfg.items() if k in SD15_ID}).eval()
    cn.load_state_dict(sd)
    for p in cn.parameters():
        p.requires_grad_(False)
    table = load_prefixed(path, "dirigent.")[0]["class_embeddings"].float() if cfg["hint_mode"] == "id" else None
    return cn, cfg, table
