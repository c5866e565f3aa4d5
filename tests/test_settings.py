from pathlib import Path

import pytest

from agent.events import Role
from agent.settings import ConfigError, load_group, load_settings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads(repo):
    s = load_settings(repo / "config")
    demo = s.groups["demo"]
    assert demo.rules and demo.owners and demo.theme
    assert s.llm.provider == "none"  # the embedded default needs no key


def test_unknown_key_names_file_and_key(tmp_path):
    path = write(tmp_path / "config" / "groups" / "g.yaml", "id: g\ntheme: t\nanswer:\n  unprompted: true\n  typo_key: 1\n")
    with pytest.raises(ConfigError) as err:
        load_group(path)
    assert str(path) in str(err.value) and "answer.typo_key" in str(err.value) and "unknown key" in str(err.value)


def test_wrong_type_in_settings_names_key(tmp_path):
    write(tmp_path / "config" / "settings.yaml", "retrieval:\n  top_k: many\n")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "config")
    assert "settings.yaml" in str(err.value) and "retrieval.top_k" in str(err.value)


def test_bad_yaml_is_a_config_error(tmp_path):
    write(tmp_path / "config" / "settings.yaml", "kb: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(tmp_path / "config")


def test_duplicate_group_id_is_rejected(tmp_path):
    write(tmp_path / "config" / "groups" / "a.yaml", "id: same\ntheme: t\n")
    write(tmp_path / "config" / "groups" / "b.yaml", "id: same\ntheme: t\n")
    with pytest.raises(ConfigError, match="b.yaml: id"):
        load_settings(tmp_path / "config")


def test_plain_string_rules_are_numbered_articles_and_roles_come_from_ids(tmp_path):
    path = write(tmp_path / "g.yaml", "id: g\ntheme: t\nrules: [不发广告, 友善交流]\n"
                 "owners: [{id: wxid_o, name: 群主}]\nadmins: [{id: wxid_a, name: 管理}]\n")
    group = load_group(path)
    assert [r.text for r in group.rules] == ["不发广告", "友善交流"]
    assert group.role_of("wxid_o") == Role.OWNER
    assert group.role_of("wxid_a") == Role.ADMIN
    assert group.role_of("群主") == Role.MEMBER  # a display name is never an identity


def test_paths_resolve_against_project_root(tmp_path):
    write(tmp_path / "config" / "settings.yaml", "data_dir: state\n")
    s = load_settings(tmp_path / "config")
    assert s.data_dir == tmp_path / "state"
    assert s.db_path == tmp_path / "state" / "steward.db"


def test_bad_schedule_names_file_key_and_schedule(tmp_path):
    path = write(tmp_path / "g.yaml", "id: g\ntheme: t\nschedules:\n  - {id: tip, when: 'weekly Mon 09:00'}\n"
                 "  - {id: bad, when: 'every blue moon'}\n")
    with pytest.raises(ConfigError) as err:
        load_group(path)
    assert "schedules.1.when" in str(err.value) and "bad" in str(err.value)


def test_duplicate_schedule_ids_are_rejected(tmp_path):
    path = write(tmp_path / "g.yaml", "id: g\ntheme: t\nschedules:\n  - {id: tip, when: 'daily 08:30'}\n"
                 "  - {id: tip, when: 'weekly Fri 21:00'}\n")
    with pytest.raises(ConfigError, match="schedules.1.id"):
        load_group(path)
