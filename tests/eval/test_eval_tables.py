#!/usr/bin/env python3
"""tools/eval_tables.py on the committed reports (the Divide & Bind table, gzipped; the 32-frame video partial):
the rows docs/evaluation.md quotes; a missing report and a report of the other task refused with the path named."""
import os, subprocess, sys

root = sys.argv[1]
tool = os.path.join(root, "tools", "eval_tables.py")


def run(task, report):
    return subprocess.run([sys.executable, tool, task, os.path.join(root, "docs", "eval", report)],
                          capture_output=True, text=True)


marks = run("marks", "marks_table.json.gz")
assert marks.returncode == 0, marks.stderr
out = marks.stdout
assert "set multi: 100 prompts x 4 seeds" in out, out
assert "| plain | 74.2 [70.5, 77.5] | 49.8 [43.8, 55.2] | - |" in out, out
assert "| Divide & Bind | +0.6 [-0.4, +1.6] | +0.2 [-1.5, +2.0] | - |" in out, out
assert "| Attend-and-Excite | +3.2 [-0.8, +7.5] |" in out.split("set scene")[1], out
partial = run("marks", "marks_table_partial.json")  # gone: a missing report is refused, naming it
assert partial.returncode != 0 and "marks_table_partial.json" in partial.stderr, partial.stderr

video = run("video", "video32_partial.json")
assert video.returncode == 0, video.stderr
assert video.stdout.startswith("45 timelines"), video.stdout
assert "| VSP | +0.176 [+0.102, +0.254] |" in video.stdout, video.stdout

wrong = run("video", "marks_table.json.gz")
assert wrong.returncode != 0 and "marks_table.json.gz" in wrong.stderr and "'marks'" in wrong.stderr, wrong.stderr
print("eval_tables: ok")
