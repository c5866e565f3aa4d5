"""`steward eval`: the contract of shared/eval/README.md, on any folder of that shape."""
import json
import subprocess
import sys

import pytest
import yaml

from agent import eval as evaluation
from agent.settings import load_settings

KEYS = {"group", "messages", "llm", "answer", "unknown", "ignore", "nudge", "violation", "owner_flagged",
        "must_not_hits", "commands", "llm_calls", "llm_tokens", "latency_ms"}


def english_group(folder):
    """A small English group written for this test: a book club."""
    (folder / "knowledge").mkdir(parents=True)
    (folder / "group.yaml").write_text(yaml.safe_dump({
        "id": "bookclub", "name": "Riverside Book Club", "language": "en", "theme": "Reading and discussing novels",
        "description": "A book club; the assistant is called \"Page\". On topic: the current book, meetings, reading tips. "
                       "Off-topic: sports, stocks, shopping.",
        "rules": ["No advertising.", "No links to other groups.", "Be respectful: no insults."],
        "owners": [{"id": "wxid_owner_ann", "name": "Ann"}],
        "members": [{"id": "wxid_bob", "name": "Bob"}, {"id": "wxid_cat", "name": "Cat"}],
    }), encoding="utf-8")
    (folder / "knowledge" / "meetings.md").write_text(
        "# Meetings\n\n## Monthly meeting\n\n- When: the first Sunday of each month at 15:00.\n"
        "- Where: Riverside Library, room 204.\n- This month's book: *The Remains of the Day*.\n", encoding="utf-8")
    rows = [
        {"id": "b1", "ts": "2025-03-02T10:00:00+00:00", "sender": "wxid_bob", "text": "Good morning everyone!", "expect": "ignore"},
        {"id": "b2", "ts": "2025-03-02T10:05:00+00:00", "sender": "wxid_cat", "text": "Where is the monthly meeting held?",
         "expect": "answer", "facts": ["room 204"], "source": "meetings.md"},
        {"id": "b3", "ts": "2025-03-02T10:09:00+00:00", "sender": "wxid_bob",
         "text": "Cheap followers and likes, 100 for $1, add my WeChat bob_1234 now", "expect": "violation",
         "violation": "ad", "must_not": ["bob_1234"]},
        {"id": "b4", "ts": "2025-03-02T10:15:00+00:00", "sender": "wxid_owner_ann", "text": "Thanks Cat, see you Sunday",
         "expect": "ignore"},
    ]
    (folder / "messages.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    cmds = [{"id": "c1", "sender": "wxid_bob", "text": "/kick @Cat", "intent": "kick", "allowed": False, "args": {}},
            {"id": "c2", "sender": "wxid_owner_ann", "text": "/rules", "intent": "rules", "allowed": True, "args": {}}]
    (folder / "commands.jsonl").write_text("\n".join(json.dumps(c) for c in cmds) + "\n", encoding="utf-8")
    return folder


@pytest.mark.e2e
def test_contract_on_an_unseen_english_group(tmp_path, repo):
    folder = english_group(tmp_path / "bookclub")
    m = evaluation.run(folder, load_settings(repo / "config"))
    assert KEYS <= m.keys()
    assert m["group"] == "bookclub" and m["messages"] == 4 and m["llm"] == "none"
    assert m["answer"] == {"n": 1, "accuracy": 1.0, "source_accuracy": 1.0}
    assert m["violation"]["by_type"]["ad"] == {"n": 1, "recall": 1.0}
    assert m["owner_flagged"] == 0 and m["must_not_hits"] == 0
    assert m["commands"] == {"n": 2, "intent_accuracy": 1.0, "permission_errors": 0}


def test_bot_name_is_read_from_the_description(tmp_path):
    folder = english_group(tmp_path / "bookclub")
    assert evaluation.load_group(folder).bot_name == "Page"


@pytest.mark.e2e
def test_cli_prints_one_json_object_on_the_dev_set(dev_set, repo):
    out = subprocess.run([sys.executable, "-m", "agent.cli", "eval", str(dev_set), "--json"], cwd=repo,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    m = json.loads(out.stdout)
    assert KEYS <= m.keys() and m["messages"] > 0
    assert m["owner_flagged"] == 0


@pytest.mark.e2e
def test_all_groups_give_each_table_the_mean_and_the_worst(tmp_path, repo):
    from agent.eval_all import run_all

    english_group(tmp_path / "groups" / "bookclub")
    (tmp_path / "groups" / "notes").mkdir()  # not a group folder: skipped
    summary = run_all(tmp_path / "groups", load_settings(repo / "config"))
    assert [m["group"] for m in summary["groups"]] == ["bookclub"]
    assert summary["mean"]["answer.accuracy"] == 1.0 and summary["worst"]["unknown.invented"] == 0


def test_worst_is_the_minimum_or_for_counts_the_maximum():
    from agent.eval_all import summarise

    a = {"group": "a", "messages": 10, "answer": {"accuracy": 0.9}, "unknown": {"invented": 0}, "held_out": True}
    b = {"group": "b", "messages": 20, "answer": {"accuracy": 0.5}, "unknown": {"invented": 3}, "held_out": True}
    s = summarise([a, b])
    assert s["groups"] == [a, b]
    assert s["mean"] == {"messages": 15, "answer.accuracy": 0.7, "unknown.invented": 1.5}
    assert s["worst"] == {"answer.accuracy": 0.5, "unknown.invented": 3}
