"""How well moderation survives spammers' evasions: each caught violation of the labelled groups, disguised
by each of the synthetic generator's evasions, judged again. Prints one JSON object.

    .venv/bin/python bench/bench_evasions.py [../shared/eval] [--seed 7]

For every group folder under the directory, the violations the moderation check catches as written (as
`steward moderate` judges them: a plain member, no LLM) are disguised by each evasion of
agent.moderation.synthetic (full-width letters, marks strewn between the characters, homophones…) with
one seeded random draw, and judged again. Per evasion: how many disguised copies differ from the
original, and the share still caught. A share under 1 names the normalising step or the training text
to work on next. Measures only; nothing is fitted on it.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.eval import groups_under, load_group  # noqa: E402
from agent.moderate import verdicts  # noqa: E402
from agent.moderation.synthetic import EVASIONS  # noqa: E402


def caught_violations(folder: Path) -> tuple[object, list[str]]:
    group = load_group(folder)
    rows = [json.loads(line) for line in (folder / "messages.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [r["text"] for r in rows if r["expect"] == "violation"]
    return group, [t for t, v in zip(texts, verdicts(texts, group)) if v["kind"] is not None]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path, nargs="?", default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    disguised = {evade.__name__: 0 for evade in EVASIONS}
    still = dict(disguised)
    originals = 0
    for folder in groups_under(args.root):
        group, caught = caught_violations(folder)
        originals += len(caught)
        for evade in EVASIONS:
            rng = random.Random(args.seed)
            changed = [d for t in caught if (d := evade(t, rng)) != t]
            disguised[evade.__name__] += len(changed)
            still[evade.__name__] += sum(v["kind"] is not None for v in verdicts(changed, group))
    print(json.dumps({"caught_as_written": originals, "seed": args.seed,
                      "still_caught": {name: {"disguised": n, "share": round(still[name] / n, 3) if n else None}
                                       for name, n in disguised.items()}}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
