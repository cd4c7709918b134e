"""The honest baselines of docs/performance.md: the least work that gives the same answer.

    python bench/baselines.py parse ROOT          # P2/P3: read every deal file, CSafeLoader
    python bench/baselines.py write CSV ROOT      # P7: one small file per row, git add + commit

Used by bench/run.py only; never imports pipectl.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys


def parse(root: str) -> int:
    """Read every `*.md` in every folder of the pipeline and parse its frontmatter."""
    import yaml

    loader = yaml.CSafeLoader
    n = 0
    for stage in sorted(os.listdir(root)):
        folder = os.path.join(root, stage)
        if stage.startswith(".") or not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if not name.endswith(".md"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                text = f.read()
            _, front, _ = text.split("---\n", 2)
            yaml.load(front, Loader=loader)
            n += 1
    return n


def write(csv_path: str, root: str) -> int:
    """One small Markdown file per CSV row in a folder per stage, then one commit."""
    n = 0
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            stage = (row.get("deal_stage") or "prospecting").lower()
            folder = os.path.join(root, stage)
            os.makedirs(folder, exist_ok=True)
            ident = (row.get("opportunity_id") or str(n)).lower()
            lines = ["---", *(f"{k}: {v}" for k, v in row.items() if v), "---", ""]
            with open(os.path.join(folder, f"{ident}.md"), "w", encoding="utf-8") as out:
                out.write("\n".join(lines))
            n += 1
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", f"import {n} rows"], cwd=root, check=True)
    return n


if __name__ == "__main__":
    if sys.argv[1] == "parse":
        parse(sys.argv[2])
    elif sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown baseline {sys.argv[1]!r}")
