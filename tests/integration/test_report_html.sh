#!/usr/bin/env bash
# The HTML backtest report renders in a real browser (headless Chromium): the
# page loads, its script runs without errors, and every chart draws — each
# chart's SVG holds data marks, and the screenshot shows coloured pixels in
# each chart's box (a blank chart fails both). The comparison section renders
# with a second profile.
set -euo pipefail
src=${HS_SOURCE_DIR:?}
bin=${HS_BIN:?}
py=/usr/bin/python3
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  # scripts/setup.sh installs Debian's chromium; without it this cannot run
  echo "SKIPPED: chromium is not installed (bash scripts/setup.sh installs it)"
  exit 77
fi
if ! "$py" -c 'import PIL' 2>/dev/null; then
  echo "SKIPPED: python3-pil is not installed (bash scripts/setup.sh installs it)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" gen --accounts 200 --days 120 --seed 11 --quiet >"$work/events.jsonl"
# B: Engagement weighs more, Adoption less
awk '/name: Adoption/ { a = 1 } /name: Engagement/ { e = 1 }
       a && /weight: 25/ { sub(/25/, "10"); a = 0 } e && /weight: 25/ { sub(/25/, "40"); e = 0 }
       { print }' "$src/examples/customer-behavior.yaml" >"$work/b.yaml"
"$bin" check "$work/b.yaml" >/dev/null
"$bin" replay --quiet --config "$src/examples/customer-behavior.yaml" --compare "$work/b.yaml" \
  --html "$work/report.html" --report none "$work/events.jsonl"
test -s "$work/report.html"

flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1
  --no-first-run --disable-extensions --user-data-dir="$work/profile")
timeout 60 "$browser" "${flags[@]}" --window-size=1280,900 --enable-logging=stderr --v=0 \
  --dump-dom "file://$work/report.html" >"$work/dom.html" 2>"$work/console.log" || {
  cat "$work/console.log" >&2
  exit 1
}
height=$("$py" - "$work/dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
boxes = [tuple(map(int, b.split(","))) for b in re.findall(r'data-box="([\d,\-]+)"', dom)]
print(max(y + h for x, y, w, h in boxes) + 40 if boxes else 2400)
PY
)
timeout 60 "$browser" "${flags[@]}" --window-size=1280,"$height" \
  --screenshot="$work/shot.png" "file://$work/report.html" >/dev/null 2>&1

"$py" - "$work/dom.html" "$work/console.log" "$work/shot.png" <<'PY'
import re, sys
from html.parser import HTMLParser
from PIL import Image

dom, console, shot = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3]
errors = [l for l in console.splitlines()
          if "Uncaught" in l or ("CONSOLE" in l and "error" in l.lower())]
assert not errors, "page errors:\n" + "\n".join(errors)
assert 'data-ready="1"' in dom, "the page's load handler did not run"

class Charts(HTMLParser):
    """Per chart: its box, and its data marks (rects with a tooltip, the
    points of polylines of two points or more)."""
    def __init__(self):
        super().__init__()
        self.charts, self.cur, self.rect = {}, None, False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure" and "chart" in (a.get("class") or ""):
            self.cur = a["id"]
            self.charts[self.cur] = {"box": a.get("data-box"), "marks": 0, "svg": 0}
        elif self.cur and tag == "svg":
            self.charts[self.cur]["svg"] += 1
        elif self.cur and tag == "rect":
            self.rect = True
        elif self.cur and tag == "title" and self.rect:
            self.charts[self.cur]["marks"] += 1
        elif self.cur and tag == "polyline" and len(a.get("points", "").split()) >= 2:
            self.charts[self.cur]["marks"] += len(a["points"].split())
    def handle_endtag(self, tag):
        if tag == "rect":
            self.rect = False
        if tag == "figure":
            self.cur = None

p = Charts()
p.feed(dom)
want = ["chart-roc", "chart-distribution", "chart-calibration", "chart-precision",
        "chart-leadtime", "chart-bands", "chart-alerts"]
assert sorted(p.charts) == sorted(want), sorted(p.charts)
img = Image.open(shot).convert("RGB")
px = img.load()
for cid in want:
    c = p.charts[cid]
    assert c["svg"] == 1, (cid, c)
    assert c["marks"] >= 5, f"{cid}: {c['marks']} data marks in its SVG"
    x, y, w, h = map(int, c["box"].split(","))
    assert w > 300 and h > 150, (cid, c["box"])
    assert y + h <= img.height, (cid, c["box"], img.size)
    # coloured pixels (data marks); axes, grid and text are grey
    coloured = sum(1 for i in range(x, x + w, 2) for j in range(y, y + h, 2)
                   if max(px[i, j]) - min(px[i, j]) > 60)
    assert coloured >= 100, f"{cid}: only {coloured} coloured pixels in its box"
    print(f"{cid}: {c['marks']} data marks, {coloured} coloured pixels (every 2nd)")
for tid in ("metrics", "compare-summary", "transitions", "movers"):
    assert f'id="{tid}"' in dom, tid
print("ok: 7 charts drawn, metric table and comparison present")
PY
