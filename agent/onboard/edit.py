"""A group file edited in place (room_id, owners), with the operator's comments and layout kept.

ruamel.yaml's round-trip mode keeps comments, key order and quoting; the result is loaded back with
the real loader before it replaces the file, so an edit never leaves a group that does not start.
"""
from __future__ import annotations

import io
from pathlib import Path


def set_room_and_owners(path: Path, room_id: str | None, owners: list[tuple[str, str]]) -> list[str]:
    """Write `room_id` (when given) and add `owners` (contact id, name) not yet listed. Returns what
    changed, in words; raises ConfigError (file left as it was) when the result would not load."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from agent.settings import load_group

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)  # the "  - item" style our files use
    original = path.read_text(encoding="utf-8")
    data = yaml.load(original)
    changed = []
    if room_id and data.get("room_id") != room_id:
        data["room_id"] = room_id
        changed.append(f"room_id: {room_id}")
    listed = data.get("owners")
    if not isinstance(listed, list):
        listed = data["owners"] = CommentedSeq()
    have = {o.get("id") for o in listed if isinstance(o, dict)}
    for contact_id, name in owners:
        if contact_id in have:
            continue
        entry = CommentedMap(id=contact_id)
        if name:
            entry["name"] = name
        listed.append(entry)
        have.add(contact_id)
        changed.append(f"owner {contact_id}" + (f" ({name})" if name else ""))
    if not changed:
        return []
    out = io.StringIO()
    yaml.dump(data, out)
    path.write_text(out.getvalue(), encoding="utf-8")
    try:
        load_group(path)
    except Exception:
        path.write_text(original, encoding="utf-8")
        raise
    return changed
