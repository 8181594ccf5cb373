"""Dirigent's PyTorch reference models, training and fixture tools (a tool, never a runtime dependency).

Run from tools/train: the trainers, evaluation, benchmarks and fixture writers are modules of this package,
`python3 -m dgtrain.train_unet ...` (docs/train-image-models.md); nothing here edits sys.path."""
import os

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
