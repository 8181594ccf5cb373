"""The evaluation judges (dgtrain.eval_models, dgtrain.eval_mne_tables): the evaluation segmenter and CLIP model,
never used to train the generators."""
import os

import torch

from . import REPO
from . import segmenter as S
from .clip_model import load_clip
from .exports import load_json_beside
from .tokenizer import Tokenizer
from .world_data import load_palette


class Judges:
    """The evaluation segmenter and CLIP model (never used to train the generators)."""

    def __init__(self, models):
        seg_path = os.path.join(models, "eval_segmenter.safetensors")
        self.seg = S.load_segmenter(seg_path, load_json_beside(seg_path)).eval()
        clip_path = os.path.join(models, "clip.safetensors")
        self.clip = load_clip(clip_path, load_json_beside(clip_path)).eval()
        self.tok = Tokenizer.from_dir(os.path.join(REPO, "assets", "tokenizer"))
        self.names = load_palette()["names"]

    @torch.no_grad()
    def segment(self, images):
        return torch.cat([self.seg(images[s:s + 16]).argmax(1) for s in range(0, len(images), 16)])

    @torch.no_grad()
    def features(self, images):
        """(image-tower features [B,F], unit embeddings [B,D])."""
        f = self.clip.image(images)
        return f, torch.nn.functional.normalize(self.clip.image_projection(f), dim=-1)

    @torch.no_grad()
    def text(self, captions):
        return self.clip.encode_text(self.tok(captions))
