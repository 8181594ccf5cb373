"""Model configurations: a dict or a JSON file, laid over a module's defaults."""
import copy
import json


def merged(path_or_dict, defaults, deep=False):
    """A copy of `defaults` updated with `path_or_dict` (a dict, a JSON file path, or None). With
    deep=True, nested dicts are updated key by key instead of replaced."""
    cfg = copy.deepcopy(defaults)
    src = path_or_dict or {}
    if not isinstance(src, dict):
        with open(src) as f:
            src = json.load(f)
    for k, v in src.items():
        if deep and isinstance(v, dict) and isinstance(cfg.get(k), dict):
            cfg[k].update(v)
        else:
            cfg[k] = v
    return cfg
