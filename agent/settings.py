"""Typed configuration: config/settings.yaml (defaults) and config/groups/<group-id>.yaml.

Validated once at start with extra keys rejected, so a typo is an error naming the file and the key
rather than a silently ignored setting. Secrets never live here: only the *names* of environment
variables that hold them.
"""
from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent.events import Role
from agent.policies import (  # noqa: F401  (the group config's parts, importable from here as before)
    AnswerPolicy, FeedbackPolicy, GapNotes, ModerationPolicy, Person, ProbationPolicy, ReportPolicy, Rule,
    ScheduleConfig, SummaryPolicy, ThemePolicy, ViolationKind, _Strict)



class ConfigError(Exception):
    """A configuration problem, worded for the operator: file, key, what is wrong."""


# ---- per group -----------------------------------------------------------------------------------


class GroupConfig(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = ""
    room_id: str | None = None
    # the WeChat room's topic: a room with it is only a candidate until an owner binds it (/bind in
    # that room, or `steward rooms --bind`); anyone can name a room anything
    topic: str | None = None
    # treat the WeChat owner of the bound room as an owner too (off: only `owners` by contact id)
    trust_room_owner: bool = False
    language: Literal["zh", "en"] = "zh"
    timezone: str = "Asia/Shanghai"
    bot_name: str = "小助手"
    theme: str = Field(min_length=1)
    description: str = ""
    on_topic_examples: list[str] = []
    off_topic_examples: list[str] = []
    rules: list[Rule] = []
    owners: list[Person] = []
    admins: list[Person] = []
    whitelist: list[str] = []  # contact ids never flagged by moderation
    allow_domains: list[str] = []  # link domains members may post
    allow_accounts: list[str] = []  # contact cards / mini-programs members may share (contact id or appid)
    answer: AnswerPolicy = AnswerPolicy()
    theme_policy: ThemePolicy = ThemePolicy()
    moderation: ModerationPolicy = ModerationPolicy()
    schedules: list[ScheduleConfig] = []
    gaps: GapNotes = GapNotes()
    summary: SummaryPolicy = SummaryPolicy()
    probation: ProbationPolicy = ProbationPolicy()  # new members' first messages and days
    members: list[Person] = []  # known members (names for mentions in simulators); optional
    reports: ReportPolicy = ReportPolicy()  # members' 举报 / /report
    # a member on the operator's blocklist who joins or speaks here: nothing, a case for the owners, or removed
    # (an imported entry only ever raises a case)
    blocklist: Literal["off", "case", "auto_kick"] = "case"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """Checked here: an unknown zone would otherwise fail every later write that stamps local time."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_as_text(cls, value):
        """Rules may be written as plain strings: article N is the N-th string."""
        if isinstance(value, list):
            return [{"text": r} if isinstance(r, str) else r for r in value]
        return value

    def role_of(self, contact_id: str) -> Role:
        """Role by contact id only; display names never grant anything."""
        if any(p.id == contact_id for p in self.owners):
            return Role.OWNER
        if any(p.id == contact_id for p in self.admins):
            return Role.ADMIN
        return Role.MEMBER

    def name_of(self, contact_id: str) -> str:
        for p in [*self.owners, *self.admins, *self.members]:
            if p.id == contact_id:
                return p.name
        return contact_id


# ---- global defaults ------------------------------------------------------------------------------


class ChromaSettings(_Strict):
    """Where the knowledge index lives: a folder of this process (local) or a Chroma server several
    bot processes share (server: `chroma run`, see deploy/)."""

    mode: Literal["local", "server"] = "local"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    ssl: bool = False
    prefix: str = ""  # this deployment's collections are named <prefix><kb.collection> on a shared server
    refresh_s: float = Field(default=2.0, ge=0)  # server mode: how often a process looks for another's sync
    connect_s: float = Field(default=30, ge=0)  # server mode: how long start-up waits for the server


class KBSettings(_Strict):
    chroma: ChromaSettings = ChromaSettings()
    knowledge_dir: Path = Path("knowledge")
    chunk_size: int = Field(default=360, ge=50)
    chunk_overlap: int = Field(default=40, ge=0)
    collection: str = "knowledge"
    domain_words: list[str] = []  # extra words for jieba (e.g. 公众号, 服务号)
    max_file_mb: float = Field(default=2.0, gt=0)  # a larger knowledge file is skipped with a warning, never read


class RetrievalSettings(_Strict):
    top_k: int = Field(default=5, ge=1)
    rrf_k: int = Field(default=10, ge=1)  # small: with ~50 chunks a large k flattens rank 1 vs 5
    answer_threshold: float = Field(default=0.5, ge=0, le=1)  # calibrated confidence to answer
    # a quoted answer under this says it may have missed the point and the question goes to the owners too
    unsure_below: float = Field(default=0.6, ge=0, le=1)
    max_sentences: int = Field(default=3, ge=1)


class LLMSettings(_Strict):
    provider: Literal["none", "openai", "local", "auto"] = "none"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = Field(default=8, gt=0)  # chat waits for nobody: fail fast, fall back
    max_retries: int = Field(default=1, ge=0)
    # from a message to its reply, whatever the endpoint does: past it the no-LLM answer goes out
    reply_deadline_s: float = Field(default=6, gt=0)
    context_tokens: int = Field(default=1500, ge=200)
    reply_tokens: int = Field(default=300, ge=20)
    encoding: str = "cl100k_base"
    # ask the model only about questions whose retrieval confidence reaches this (saves calls on
    # chatter and hopeless questions); it then decides between an answer and "don't know"
    consult_threshold: float = Field(default=0.2, ge=0, le=1)
    reply_chars: int = Field(default=300, ge=50)  # longer model replies are refused (WeChat-friendly)
    # for the estimated cost in /stats, steward stats and the digest (your provider's price, e.g. 2.0
    # for ¥2 per million tokens); null = no estimate
    price_per_million_tokens: float | None = Field(default=None, ge=0)
    currency: str = "¥"
    group_daily_tokens: int | None = Field(default=100_000, ge=0)
    member_daily_tokens: int | None = Field(default=10_000, ge=0)
    monthly_tokens: int | None = Field(default=2_000_000, ge=0)


class StoreSettings(_Strict):
    path: Path | None = None  # default: <data_dir>/steward.db
    # a database URL instead of the SQLite file, e.g. postgresql+psycopg://steward@db/steward; the password
    # never in the config: ${VAR} is read from the environment, and libpq reads PGPASSWORD
    url: str | None = None
    retention_days: int = Field(default=30, ge=1)  # message text kept only this long (gaps, evidence)


class PacingSettings(_Strict):
    group_gap_s: float = Field(default=1.5, ge=0)
    account_gap_s: float = Field(default=0.6, ge=0)


class Settings(_Strict):
    data_dir: Path = Path(".steward")
    groups_dir: Path = Path("config/groups")
    prompts_dir: Path = Path("prompts")
    kb: KBSettings = KBSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LLMSettings = LLMSettings()
    store: StoreSettings = StoreSettings()
    pacing: PacingSettings = PacingSettings()
    judge_chars: int = Field(default=4000, ge=200)  # a longer message is judged on its head and tail
    groups: dict[str, GroupConfig] = {}  # filled from groups_dir, keyed by group id

    @model_validator(mode="after")
    def _default_store(self):
        if self.store.path is None:
            self.store.path = self.data_dir / "steward.db"
        return self

    @property
    def db_path(self) -> Path:
        assert self.store.path is not None
        return self.store.path

    @property
    def store_url(self) -> str | Path:
        """Where the state lives: store.url, else the SQLite file."""
        return self.store.url or self.db_path

    @property
    def has_state(self) -> bool:
        """Whether there is a state to read (a database server, or the file once the bot made it)."""
        return bool(self.store.url) or self.db_path.exists()

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"


# ---- loading -----------------------------------------------------------------------------------

GROUP_SUFFIXES = (".yaml", ".yml")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _config_text(path: Path, raw: bytes) -> str:
    """UTF-8, or any encoding its byte-order mark names. Anything else is refused rather than guessed:
    a mis-guessed topic or owner id would silently never match."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                break
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if b"\x00" in raw:
            raise ConfigError(f"{path}: a binary file, not YAML text") from None
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text (saved as GBK?): save the file as UTF-8") from None


def _read_yaml(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(_config_text(path, raw)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: {where}not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    return data


def _explain(path: Path, exc: ValidationError) -> ConfigError:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = "unknown key (typo?)" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{path}: {key}: {msg}")
    return ConfigError("\n".join(lines))


def load_group(path: Path) -> GroupConfig:
    from agent.schedule.slots import EXAMPLE, check  # late: the schedule package reads these models

    data = _read_yaml(path)
    try:
        group = GroupConfig.model_validate(data)
    except ValidationError as exc:
        error = _explain(path, exc)
        if any(err["loc"][:1] == ("schedules",) for err in exc.errors()):
            error = ConfigError(f"{error}\n{EXAMPLE}")
        raise error from None
    seen: set[str] = set()
    for i, schedule in enumerate(group.schedules):
        if schedule.id in seen:
            raise ConfigError(f"{path}: schedules.{i}.id: {schedule.id!r} is used by another schedule of this group")
        seen.add(schedule.id)
        try:
            check(schedule.id, schedule.when, group.timezone)
        except ValueError as exc:
            raise ConfigError(f"{path}: schedules.{i}.when: {exc}\n{EXAMPLE}") from None
    if not group.owners and not group.trust_room_owner:
        # an error, not a warning: nobody could run the group's commands, bind its room or receive
        # its case files, and a warning scrolls past in a log nobody reads
        raise ConfigError(f"{path}: owners: the group needs at least one owner (contact id), "
                          "or trust_room_owner: true")
    return group


def _check_llm(path: Path, llm: LLMSettings, env: Mapping[str, str]) -> None:
    """What the model block needs is known now; finding out at the first question is too late."""
    if llm.provider != "openai":
        return
    if not llm.model:
        raise ConfigError(f"{path}: llm.model: required for provider openai (e.g. gpt-4o-mini, deepseek-chat)")
    if not env.get(llm.api_key_env):
        raise ConfigError(f"{path}: llm.api_key_env: the environment variable {llm.api_key_env} is not set "
                          "(export it, or set llm.provider: none)")


def _check_paths(path: Path, settings: Settings) -> None:
    """Folders must be folders (or not exist yet, below a folder); the database must not be a folder."""
    folders = {"data_dir": settings.data_dir, "groups_dir": settings.groups_dir,
               "prompts_dir": settings.prompts_dir, "kb.knowledge_dir": settings.kb.knowledge_dir}
    for key, folder in folders.items():
        blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise ConfigError(f"{path}: {key}: {blocker} is a file, not a folder")
    db = settings.db_path
    if db.is_dir():
        raise ConfigError(f"{path}: store.path: {db} is a folder, not a database file")


def group_files(groups_dir: Path) -> list[Path]:
    return sorted(p for p in groups_dir.iterdir() if p.suffix.lower() in GROUP_SUFFIXES and p.is_file())


def _check_unique(files: dict[str, Path], groups: dict[str, GroupConfig]) -> None:
    """One room, one group: two files claiming the same room or topic would race for it."""
    for attr in ("room_id", "topic"):
        claimed: dict[str, str] = {}
        for gid, group in groups.items():
            value = getattr(group, attr)
            if not value:
                continue
            if value in claimed:
                first = claimed[value]
                raise ConfigError(f"{files[gid]}: {attr}: {value!r} is also the {attr} of {files[first]}")
            claimed[value] = gid


def load_settings(config_dir: Path | str = "config", base_dir: Path | str | None = None,
                  env: Mapping[str, str] = os.environ) -> Settings:
    """Load settings.yaml and every group file. Relative paths resolve against `base_dir`
    (default: the parent of config_dir, i.e. the project root). `env` holds the secrets the
    config names."""
    config_dir = Path(config_dir)
    if not config_dir.is_dir():  # else every path would silently resolve against the wrong folder
        raise ConfigError(f"{config_dir}: no such config folder (pass --config <folder>)")
    base = Path(base_dir) if base_dir is not None else config_dir.resolve().parent
    path = config_dir / "settings.yaml"
    data = _read_yaml(path) if path.exists() else {}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from None
    for attr in ("data_dir", "groups_dir", "prompts_dir"):
        value = getattr(settings, attr)
        if not value.is_absolute():
            setattr(settings, attr, base / value)
    if not settings.kb.knowledge_dir.is_absolute():
        settings.kb.knowledge_dir = base / settings.kb.knowledge_dir
    if settings.store.path is not None and not settings.store.path.is_absolute():
        settings.store.path = base / settings.store.path
    _check_llm(path, settings.llm, env)
    _check_paths(path, settings)
    groups: dict[str, GroupConfig] = {}
    files: dict[str, Path] = {}
    if settings.groups_dir.is_dir():
        for gpath in group_files(settings.groups_dir):
            group = load_group(gpath)
            if group.id in groups:
                raise ConfigError(f"{gpath}: id: group id {group.id!r} is also the id in {files[group.id]}")
            groups[group.id] = group
            files[group.id] = gpath
    _check_unique(files, groups)
    settings.groups = groups
    return settings
