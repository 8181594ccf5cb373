#!/usr/bin/env python3
"""tools/eval_tables.py on the committed partial reports: the rows docs/evaluation.md quotes, and a report of
the other task refused with its path named."""
import os, subprocess, sys

root = sys.argv[1]
tool = os.path.join(root, "tools", "eval_tables.py")


def run(task, report):
    return subprocess.run([sys.executable, tool, task, os.path.join(root, "docs", "eval", report)],
                          capture_output=True, text=True)


marks = run("marks", "marks_table_partial.json")
assert marks.returncode == 0, marks.stderr
out = marks.stdout
assert "set multi: 100 prompts x 4 seeds" in out, out
assert "| plain | 74.2 [70.5, 77.5] | 49.8 [43.8, 55.2] | - |" in out, out
assert "| Divide & Bind | +0.6 [-0.4, +1.6] | +0.2 [-1.5, +2.0] | - |" in out, out
assert "set scene" not in out, "a set with no prompts yet gets no table"

video = run("video", "video32_partial.json")
assert video.returncode == 0, video.stderr
assert video.stdout.startswith("35 timelines"), video.stdout
assert "| VSP | +0.159 [+0.078, +0.241] |" in video.stdout, video.stdout

wrong = run("video", "marks_table_partial.json")
assert wrong.returncode != 0 and "marks_table_partial.json" in wrong.stderr and "'marks'" in wrong.stderr, wrong.stderr
print("eval_tables: ok")
