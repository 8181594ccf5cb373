"""Trains the contrastive text-image model (our CLIP text tower + a small conv image encoder) on world
images and captions (one random caption of each image per step; identical captions in a batch are not
used as negatives).

Example: cd tools/train && /usr/bin/python3 -m dgtrain.train_clip --data ../../data/world/train \
    --val ../../data/world/test --tokenizer ../../assets/tokenizer --out ../../runs/clip --steps 3000 --batch 64 \
    --lr 5e-4 --export ../../assets/models/world_clip
--export PATH writes PATH.safetensors + PATH.json and, unless --export-text says otherwise, the text tower
alone as text_encoder.safetensors + text_encoder.json in the same folder (what train_unet loads).
The full export holds the text tower in single-file naming (cond_stage_model.transformer.text_model.*, loadable
with dgtrain.clip_text.load_text_encoder) plus `clip.image.*`, `clip.text_projection.weight`,
`clip.image_projection.weight`, `clip.logit_scale`; PATH.json has the config and the training record.
"""
import os
import random
import sys

import torch

from . import REPO
from . import clip_model as C
from . import plumbing as P
from .clip_model import export_state_dict
from .clip_text import CKPT_PREFIX, save_text_encoder
from .exports import export_paths, write_record
from .safetensors_io import save
from .tokenizer import Tokenizer
from .world_data import WorldImages


@torch.no_grad()
def retrieval(model, tok, dataset, device, limit=256, batch=64):
    """Top-1 image->text and text->image accuracy among up to `limit` held-out images with their first
    captions (a retrieved caption with the same text counts as correct), and the mean matched cosine."""
    model.eval()
    n = min(limit, len(dataset))
    imgs, txts, texts = [], [], []
    for s in range(0, n, batch):
        items = [dataset[i] for i in range(s, min(n, s + batch))]
        caps = [it["captions"][0] if it["captions"] else "" for it in items]
        ids = C.trim_ids(tok(caps), tok.eot_id).to(device)
        imgs.append(model.encode_image(torch.stack([it["image"] for it in items]).to(device)).cpu())
        txts.append(model.encode_text(ids).cpu())
        texts += caps
    img, txt = torch.cat(imgs), torch.cat(txts)
    sim = img @ txt.t()
    i2t = sum(texts[j] == texts[i] for i, j in enumerate(sim.argmax(1).tolist())) / n
    t2i = sum(texts[j] == texts[i] for i, j in enumerate(sim.argmax(0).tolist())) / n
    model.train()
    return {"i2t_top1": i2t, "t2i_top1": t2i, "matched_cos": sim.diag().mean().item(), "images": n}


def main(argv=None):
    ap = P.base_parser(__doc__.split("\n")[0], lr=1e-3)
    ap.add_argument("--no-cache", action="store_true", help="do not keep decoded training images in memory")
    ap.add_argument("--tokenizer", default=os.path.join(REPO, "assets", "tokenizer"), help="folder with vocab.json + merges.txt")
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=0)
    ap.add_argument("--export-text", help="text tower alone: PATH.safetensors + PATH.json (text config); "
                                          "default with --export: text_encoder.* beside it")
    args = ap.parse_args(argv)
    P.setup(args)
    command = P.command_line(__spec__.name, argv)
    log = P.Log(args.out)

    if not os.path.exists(os.path.join(args.tokenizer, "vocab.json")):
        sys.exit(f"train_clip: no tokenizer in {args.tokenizer}; learn one with "
                 f"`python3 -m dgtrain.tokenizer learn --captions {args.data} --merges N --out {args.tokenizer}`")
    tok = Tokenizer.from_dir(args.tokenizer)
    cfg = C.load_config(args.config)
    cfg["text"]["vocab_size"] = tok.vocab_size
    train = WorldImages(args.data, hflip=True, cache=not args.no_cache)
    val = WorldImages(args.val) if args.val else None
    model = C.ClipModel(cfg).to(args.device)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    batches = P.Batches(len(train), args.batch, args.seed)
    ck, state = P.Checkpoint.begin(args, log, command)
    step, extra = ck.restore_model(state, batches, model, opt) if state else (0, {})
    warmup = args.warmup if args.warmup is not None else min(500, args.steps // 20)
    n_text = sum(p.numel() for p in model.text.parameters())
    n_all = sum(p.numel() for p in model.parameters())
    log(f"clip: {n_all} parameters ({n_text} text tower), vocab {tok.vocab_size}, {len(train)} training images")

    def snapshot():
        return P.Checkpoint.model_state(step, batches, model, opt, {"evals": evals})

    meter = P.Meter()
    last = {}
    evals = extra.get("evals", [])
    model.train()
    budget = P.Budget(args.steps, args.budget_seconds)
    while not budget.done(step):
        lr = P.lr_at(budget.sched_step(step), args.steps, args.lr, warmup, decay=True)
        P.set_lr(opt, lr)
        items = [train[i] for i in batches.next()]
        caps = [random.choice(it["captions"]) if it["captions"] else "" for it in items]
        ids = C.trim_ids(tok(caps), tok.eot_id).to(args.device)
        same = torch.tensor([[a == b for b in caps] for a in caps], device=args.device)
        x = torch.stack([it["image"] for it in items]).to(args.device)
        loss, logits = model(x, ids, same)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        with torch.no_grad():
            acc = (logits.argmax(1) == torch.arange(len(items), device=args.device)).float().mean().item()
        meter.add(len(items), loss=loss.item(), acc=acc, scale=model.scale().item())
        if step % args.log_every == 0 or budget.done(step):
            r = meter.report()
            last = r
            log(f"step {step} loss {r['loss']:.4f} batch_i2t {r['acc']:.3f} scale {r['scale']:.1f} lr {lr:.2e} "
                f"s/step {r['s_per_step']:.3f} cpu_s/step {r['cpu_s_per_step']:.3f} samples/s {r['samples_per_s']:.1f}")
        if val is not None and args.eval_every and step % args.eval_every == 0 and not budget.done(step):
            ev = retrieval(model, tok, val, args.device)
            evals.append(dict(step=step, **ev))
            log(f"eval step {step} {ev}")
        ck.save(snapshot)
    log(meter.summary("clip"))
    ck.save(snapshot, force=True)

    summary = {"steps": step, "parameters": n_all, "text_parameters": n_text, "config": cfg, "evals": evals,
               "train_images": len(train), "tokenizer": os.path.abspath(args.tokenizer), "last_log": last}
    if val is not None:
        summary["val"] = retrieval(model, tok, val, args.device)
        log(f"final eval {summary['val']}")
    if args.export:
        w, c = export_paths(args.export)
        model.cpu()
        write_record(c, dict(cfg, text_prefix=CKPT_PREFIX, tokenizer=os.path.relpath(os.path.abspath(args.tokenizer), REPO),
                               training={"command": command, "steps": step, "val": summary.get("val")}))
        save(export_state_dict(model), w, {"format": "dirigent-clip"})
        summary["export"] = w
        log(f"exported {w} and {c}")
        tw, tc = export_paths(args.export_text or os.path.join(os.path.dirname(w), "text_encoder"))
        save_text_encoder(model.text, tw, tc, {"format": "dirigent-text-encoder", "source": os.path.basename(w)})
        summary["export_text"] = tw
        log(f"exported {tw} and {tc}")
    P.write_summary(args.out, summary, command, log)
    return summary


if __name__ == "__main__":
    main()
