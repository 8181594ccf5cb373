#!/usr/bin/env python3
"""Writes tests/data/live_session.jsonl: a scripted live-mode editing session for `dirigent-cli live --replay`
(docs/cli.md). Not a recording of a person: its pacing imitates one (keystrokes 110-220 ms apart with pauses
between words, brush strokes 0.4-1.2 s long ending 1-3 s apart, a pause to look now and then). It starts from
the world test scene 2000000000's layout, types a prompt, paints a car, trees, a person, a pole and road onto
it, marks "red:car", extends the prompt, undoes a stroke and paints two more: 60+ edits over about a minute."""
import json, random, sys

rng = random.Random(22)
t = 0.0
lines = [{"t": 0, "op": "canvas", "width": 256, "height": 128},
         {"t": 0, "op": "random-layout", "seed": 2000000000}]


def at(ms):
    global t
    t += ms
    return round(t)


def type_text(before, text):
    for i in range(len(before) + 1, len(before) + len(text) + 1):
        full = before + text
        c = full[i - 1]
        lines.append({"t": at(rng.uniform(110, 220) + (rng.uniform(150, 400) if c == " " else 0)), "op": "prompt",
                      "text": full[:i]})
    return before + text


def stroke(cls, radius, x0, y0, x1, y1, n=None):
    n = n or rng.randint(3, 8)
    pts = [[round(x0 + (x1 - x0) * k / (n - 1) + rng.uniform(-1.5, 1.5)),
            round(y0 + (y1 - y0) * k / (n - 1) + rng.uniform(-1.5, 1.5))] for k in range(n)]
    # the stroke ends (and is applied) after it was drawn
    lines.append({"t": at(rng.uniform(1000, 3000)), "op": "stroke", "class": cls, "radius": radius, "points": pts})


at(1500)
prompt = type_text("", "a red car on a street")
at(2000)
for x in (70, 78, 86):
    stroke("car", 5, x, 104, x + 18, 106)
stroke("car", 4, 72, 98, 100, 98)
stroke("tree", 7, 200, 40, 204, 80)
stroke("tree", 7, 222, 36, 226, 78)
stroke("tree", 3, 212, 60, 212, 92)
at(2500)
lines.append({"t": at(1800), "op": "marks", "text": "red:car"})
stroke("person", 2, 150, 92, 150, 110, 4)
stroke("person", 3, 152, 88, 152, 92, 3)
stroke("pole", 1, 120, 50, 120, 110, 5)
stroke("road", 6, 0, 118, 120, 122)
stroke("road", 6, 120, 118, 255, 122)
prompt = type_text(prompt, " with trees")
at(1500)
stroke("building", 8, 20, 40, 20, 90)
stroke("building", 8, 36, 40, 36, 90)
lines.append({"t": at(1500), "op": "undo"})
stroke("sky", 10, 10, 10, 120, 16)
stroke("car", 6, 170, 108, 196, 110)
stroke("car", 4, 172, 102, 194, 102)
prompt = type_text(prompt, " and a person")
stroke("grass", 5, 230, 100, 255, 104)

out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/live_session.jsonl"
with open(out, "w") as f:
    for l in lines:
        f.write(json.dumps(l, separators=(", ", ": ")) + "\n")
print(f"{out}: {len(lines) - 1} edits over {t / 1000:.1f} s")
