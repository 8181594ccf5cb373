#!/usr/bin/env python3
"""Markdown tables for docs/evaluation.md from the reports of `dirigent-cli eval marks` (Divide & Bind)
and `dirigent-cli eval video` (VSTAR), complete or partial (both commands rewrite their report as they go).
Means with their 95% bootstrap intervals as the reports hold them; nothing is recomputed here.
usage: tools/eval_tables.py marks|video REPORT.json[.gz]"""
import gzip, json, sys

MODE_NAMES = {"none": "plain", "attend-excite": "Attend-and-Excite", "divide-bind": "Divide & Bind"}
VARIANT_NAMES = {"real": "real clip", "base": "base", "vsp": "VSP", "tar": "TAR", "vstar": "VSTAR"}


def interval(s, digits=3, scale=1.0, sign=False):
    """'mean [lo, hi]' of a report's {mean, lo, hi}; '-' where the mean is undefined (e.g. no colours)."""
    if s is None or s.get("mean") is None:
        return "-"
    fmt = f"{{:{'+' if sign else ''}.{digits}f}}"
    v = [fmt.format(scale * s[k]) for k in ("mean", "lo", "hi")]
    return f"{v[0]} [{v[1]}, {v[2]}]"


def mean(s, digits):
    return "-" if s is None or s.get("mean") is None else f"{s['mean']:.{digits}f}"


def marks_tables(report):
    out = []
    for set_name, s in report["sets"].items():
        if not s["prompts"]:
            continue
        out += [f"set {set_name}: {s['prompts']} prompts x {report['seeds']} seeds, {s['images']} images in all modes", "",
                "| mode | objects present % | all present % | colours bound % | CLIP prompt | CLIP min object "
                "| s / image | updates |",
                "|---|---|---|---|---|---|---|---|"]
        for m, v in s["modes"].items():
            out.append(f"| {MODE_NAMES.get(m, m)} | {interval(v['object_present'], 1, 100)} "
                       f"| {interval(v['all_present'], 1, 100)} | {interval(v['colour_bound'], 1, 100)} "
                       f"| {interval(v['clip_prompt'])} | {interval(v['clip_min_object'])} "
                       f"| {mean(v['seconds'], 2)} | {mean(v['guidance_updates'], 1)} |")
        out += ["", "| vs plain (points) | objects present | all present | colours bound | CLIP prompt |",
                "|---|---|---|---|---|"]
        for m, v in s["modes"].items():
            if m == "none":
                continue
            out.append(f"| {MODE_NAMES.get(m, m)} | {interval(v['object_present'].get('vs_none'), 1, 100, True)} "
                       f"| {interval(v['all_present'].get('vs_none'), 1, 100, True)} "
                       f"| {interval(v['colour_bound'].get('vs_none'), 1, 100, True)} "
                       f"| {interval(v['clip_prompt'].get('vs_none'), 3, 1, True)} |")
        out.append("")
    return out


def video_tables(report):
    summary = report["summary"]
    out = [f"{report['timelines_done']} timelines, {report['seconds']:.0f} s", "",
           "| | stage accuracy | transition error | transition width | adjacent CLIP cosine | adjacent L1 "
           "| layout mIoU | band mass |",
           "|---|---|---|---|---|---|---|---|"]
    for k in (k for k in VARIANT_NAMES if k in summary):
        g = summary[k]
        out.append(f"| {VARIANT_NAMES[k]} | {interval(g['stage_acc'])} | {mean(g['transition_err'], 2)} "
                   f"| {mean(g['transition_width'], 1)} | {mean(g['clip_cos'], 3)} | {mean(g['l1'], 1)} "
                   f"| {mean(g['layout_miou'], 3)} | {mean(g['band_mass'], 3)} |")
    out += ["", "| vs base | stage accuracy | adjacent L1 | layout mIoU | band mass |", "|---|---|---|---|---|"]
    for k in ("vsp", "tar", "vstar"):
        if k in summary:
            v = summary[k]["vs_base"]
            out.append(f"| {VARIANT_NAMES[k]} | {interval(v['stage_acc'], 3, 1, True)} | {interval(v['l1'], 2, 1, True)} "
                       f"| {interval(v['layout_miou'], 3, 1, True)} | {interval(v['band_mass'], 3, 1, True)} |")
    return out


def main(argv):
    if len(argv) != 3 or argv[1] not in ("marks", "video"):
        sys.exit(__doc__.strip().splitlines()[-1])
    path = argv[2]
    try:
        with (gzip.open if path.endswith(".gz") else open)(path, "rt", encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{path}: cannot read the report: {e}")
    if report.get("task") != argv[1]:
        sys.exit(f"{path}: a report of task {report.get('task')!r}, not {argv[1]!r}")
    try:
        lines = marks_tables(report) if argv[1] == "marks" else video_tables(report)
    except (KeyError, TypeError) as e:
        sys.exit(f"{path}: the report lacks {e} (not written by this version of dirigent-cli eval {argv[1]}?)")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv)
