"""`steward eval --all DIR`: every labelled group under DIR, scored, with the mean and the worst.

`--holdout-each` is the honest figure: before a group is scored, every learned judgement listed in
`CALIBRATIONS` is refitted on the other groups only and used for the replay, so no group is scored
by weights it helped to set. The shipped weights (fitted on all groups) are not used then.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

from agent import eval as evaluation
from agent.settings import Settings

# counts and times where less is better; every other figure (accuracy, recall…) is better higher
LOWER_IS_BETTER = {"unknown.invented", "owner_flagged", "must_not_hits", "commands.permission_errors",
                   "latency_ms.p50", "latency_ms.p95", "llm_calls", "llm_tokens"}
SIZES = {"messages", "answer.n", "unknown.n", "ignore.n", "nudge.n", "violation.n", "commands.n"}


class Calibration:
    """One learned judgement: `prepare(folder)` reads what fitting needs from one group (once per
    run), `fitted(prepared)` is a context in which the judgement uses weights fitted on those."""

    def __init__(self, name: str, prepare: Callable[[Path, Settings], object],
                 fitted: Callable[[list], AbstractContextManager]):
        self.name, self.prepare, self.fitted = name, prepare, fitted


def _answerability() -> Calibration:
    from agent.answering import calibrate, model

    return Calibration("answerability", calibrate.harvest,
                       lambda prepared: model.using(calibrate.fit([a for part in prepared for a in part])))


def _offtopic() -> Calibration:
    """The off-topic weights are fitted without each labelled group ahead of time (bench/fit_theme.py
    writes one fit per group left out); here the held-out group's fit is selected by group id."""
    import yaml

    from agent.theme import judge

    return Calibration("offtopic", lambda folder, _settings: yaml.safe_load(
                           (folder / "group.yaml").read_text(encoding="utf-8"))["id"],
                       judge.holding_out)


CALIBRATIONS: list[Callable[[], Calibration]] = [_answerability, _offtopic]


def flatten(metrics: dict, prefix: str = "") -> dict[str, float]:
    """{'answer': {'accuracy': 0.7}} → {'answer.accuracy': 0.7}: the numeric figures only."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{path}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[path] = value
    return out


def summarise(per_group: list[dict]) -> dict:
    """The per-group objects plus `mean` and `worst` of every figure they share (flattened keys;
    worst is the minimum, or the maximum for counts and times where less is better; group sizes
    have no worst)."""
    flat = [flatten(m) for m in per_group]
    keys = [k for k in flat[0] if all(k in f for f in flat)] if flat else []
    mean = {k: round(statistics.fmean(f[k] for f in flat), 4) for k in keys}
    worst = {k: (max if k in LOWER_IS_BETTER else min)(f[k] for f in flat) for k in keys if k not in SIZES}
    return {"groups": per_group, "mean": mean, "worst": worst}


@contextmanager
def _held_out(prepared: dict[str, dict[Path, object]], calibrations: list[Calibration], group: Path) -> Iterator[None]:
    with ExitStack() as stack:
        for c in calibrations:
            stack.enter_context(c.fitted([p for folder, p in prepared[c.name].items() if folder != group]))
        yield


def run_all(root: Path, settings: Settings, llm_mode: str = "none", holdout_each: bool = False,
            details: list | None = None, progress: Callable[[str], None] = lambda _: None) -> dict:
    folders = evaluation.groups_under(root)
    calibrations = [make() for make in CALIBRATIONS] if holdout_each else []
    prepared: dict[str, dict[Path, object]] = {c.name: {} for c in calibrations}
    for c in calibrations:
        for folder in folders:
            progress(f"{c.name}: reading {folder.name}")
            prepared[c.name][folder] = c.prepare(folder, settings)
    per_group = []
    for folder in folders:
        progress(f"scoring {folder.name}" + (" (held out)" if holdout_each else ""))
        rows: list | None = [] if details is not None else None
        with _held_out(prepared, calibrations, folder):
            metrics = evaluation.run(folder, settings, llm_mode=llm_mode, details=rows)
        metrics["held_out"] = holdout_each
        per_group.append(metrics)
        if details is not None:
            details.extend({"group": metrics["group"], **r} for r in rows)
    return summarise(per_group)


# the figures of the summary table, in the order the eval contract lists them
HEADLINE = ("answer.accuracy", "unknown.invented", "unknown.recall", "ignore.accuracy", "nudge.precision",
            "nudge.recall", "violation.precision", "violation.recall", "owner_flagged", "must_not_hits",
            "commands.intent_accuracy", "commands.permission_errors", "latency_ms.p95")


def print_summary(summary: dict) -> None:
    """A table per group, then the headline figures side by side with the mean and the worst."""
    from rich.console import Console
    from rich.table import Table

    from agent.simulate import print_metrics

    console = Console()
    for metrics in summary["groups"]:
        print_metrics(metrics, console)
    held = any(m.get("held_out") for m in summary["groups"])
    table = Table(title="all groups" + (" · each held out of the fitting" if held else ""))
    names = [m["group"] for m in summary["groups"]]
    table.add_column("figure", no_wrap=True, min_width=max(map(len, HEADLINE)))
    for column in (*names, "mean", "worst"):
        table.add_column(column, justify="right", no_wrap=True)
    flat = [flatten(m) for m in summary["groups"]]
    for key in HEADLINE:
        if key in summary["mean"]:
            cells = [f.get(key, "") for f in flat] + [summary["mean"][key], summary["worst"].get(key, "")]
            table.add_row(key, *(f"{c:.2f}" if isinstance(c, float) else str(c) for c in cells))
    Console(width=max(console.width, 40 + 12 * len(names))).print(table)  # numbers are never cut
