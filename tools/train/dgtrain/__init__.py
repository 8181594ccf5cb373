"""Dirigent's PyTorch reference models, training and fixture tools (a tool, never a runtime dependency)."""
