"""deploy/: the compose file's structure and its agreement with the Dockerfile, the bot's settings and
options, and config/.env.example, and against the Compose Specification's schema (no container engine
here: `docker compose config` cannot run; CI does not run the stack either)."""
from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from agent.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
DEFAULT = re.compile(r"\$\{\w+:-([^}]*)\}")
SERVICES = {"bot", "gateway", "postgres", "chroma"}
KEYS = {"image", "build", "restart", "environment", "volumes", "depends_on", "command", "healthcheck"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bot_settings() -> Settings:
    """What the composed bot runs with: deploy/settings.yaml, mounted over its config/settings.yaml."""
    return Settings.model_validate(yaml.safe_load((DEPLOY / "settings.yaml").read_text(encoding="utf-8")))


def mounts(service: dict) -> dict[str, str]:
    """container path -> source of each volume line ("source:target[:mode]")."""
    return {line.split(":")[1]: line.split(":")[0] for line in service.get("volumes", [])}


def test_four_services_each_well_formed(compose):
    services = compose["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        assert set(service) <= KEYS, f"{name}: unknown keys {set(service) - KEYS}"
        assert ("image" in service) != ("build" in service), f"{name}: needs an image or a build, not both"
        assert service["restart"] == "unless-stopped"
        assert all(isinstance(v, str) for v in service.get("environment", {}).values()), name
    build = services["bot"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == REPO and (context / build["dockerfile"]).is_file()
    assert services["gateway"]["image"].startswith("wechaty/wechaty:")
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["chroma"]["image"].startswith("chromadb/chroma:")
    named = {src for s in services.values() for src in mounts(s).values() if not src.startswith(".")}
    assert named == set(compose["volumes"])  # every named volume declared, none left unused


def test_the_bot_starts_after_its_servers(compose):
    depends = compose["services"]["bot"]["depends_on"]
    assert set(depends) == {"gateway", "postgres", "chroma"}
    assert depends["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in compose["services"]["postgres"]["healthcheck"]["test"]


def test_the_bot_reaches_the_gateway_with_the_gateways_own_token(compose):
    gateway = compose["services"]["gateway"]["environment"]
    bot = compose["services"]["bot"]["environment"]
    host, port = bot["WECHATY_PUPPET_SERVICE_ENDPOINT"].split(":")
    assert host == "gateway" and port == gateway["WECHATY_PUPPET_SERVER_PORT"]
    token = VARIABLE.fullmatch(bot["WECHATY_PUPPET_SERVICE_TOKEN"]).group(1)
    assert VARIABLE.fullmatch(gateway["WECHATY_TOKEN"]).group(1) == token
    assert gateway["WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER"] == "true"  # python-wechaty has no TLS


def test_the_bot_settings_point_at_the_composed_postgres(compose, bot_settings):
    postgres = compose["services"]["postgres"]["environment"]
    url = urlsplit(bot_settings.store.url)
    assert url.scheme == "postgresql+psycopg" and url.hostname == "postgres" and url.port in (None, 5432)
    assert url.username == postgres["POSTGRES_USER"] and url.path == f"/{postgres['POSTGRES_DB']}"
    assert url.password is None  # the password is the environment's, shared with the database
    password = VARIABLE.fullmatch(postgres["POSTGRES_PASSWORD"]).group(1)
    assert VARIABLE.fullmatch(compose["services"]["bot"]["environment"]["PGPASSWORD"]).group(1) == password


def test_the_bot_settings_point_at_the_composed_chroma_of_the_clients_version(compose, bot_settings):
    chroma = bot_settings.kb.chroma
    assert chroma.mode == "server" and chroma.host == "chroma" and chroma.port == 8000  # the image's port
    assert chroma.connect_s > 0  # the server may start after the bot
    assert "/data" in mounts(compose["services"]["chroma"])  # where the image keeps its data
    tag = DEFAULT.fullmatch(compose["services"]["chroma"]["image"].split(":", 1)[1]).group(1)
    assert tag == version("chromadb"), "the server image should be the chromadb version the bot's client speaks"


def test_the_deploy_settings_replace_the_config_settings_in_the_container(compose):
    bot = mounts(compose["services"]["bot"])
    assert (DEPLOY / bot["/app/config/settings.yaml"]).resolve() == DEPLOY / "settings.yaml"
    assert (DEPLOY / bot["/app/config"]).resolve() == REPO / "config"
    assert (DEPLOY / bot["/app/knowledge"]).resolve() == REPO / "knowledge"
    assert bot["/app/.steward"] in compose["volumes"]


def test_no_secret_is_written_in_the_file_and_every_variable_is_documented(compose):
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    for service in compose["services"].values():
        for name, value in service.get("environment", {}).items():
            if name.endswith(("TOKEN", "KEY", "SECRET", "PASSWORD")):
                assert VARIABLE.fullmatch(value), f"{name} must come from the environment"
    documented = {line.split("=")[0] for line in (REPO / "config" / ".env.example").read_text(encoding="utf-8")
                  .splitlines() if "=" in line and not line.startswith("#")}
    optional = set(re.findall(r"\$\{(\w+):-", text))  # have defaults in the file
    assert set(VARIABLE.findall(text)) - optional <= documented


def test_the_health_check_asks_the_port_the_bot_serves(compose):
    bot = compose["services"]["bot"]
    command = bot["command"]
    assert command[:2] == ["steward", "run"]
    port = command[command.index("--health-port") + 1]
    assert f"127.0.0.1:{port}/health" in " ".join(bot["healthcheck"]["test"])
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert f'"--health-port", "{port}"' in dockerfile


def test_everything_the_dockerfile_copies_exists():
    for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), source


def test_the_file_follows_the_compose_specification(compose):
    """The Compose Specification's own JSON schema (compose-spec/compose-spec, schema/compose-spec.json
    at 170098b, Apache-2.0, kept in tests/data): what `docker compose config` checks first, without an
    engine. A misspelt key or a wrongly typed value fails here."""
    schema = json.loads((REPO / "tests" / "data" / "compose-spec.json").read_text(encoding="utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(compose)]
    assert not errors, errors
    misspelt = compose | {"services": compose["services"] | {"bot": {**compose["services"]["bot"], "depend_on": []}}}
    assert not jsonschema.Draft7Validator(schema).is_valid(misspelt)
