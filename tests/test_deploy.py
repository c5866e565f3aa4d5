"""deploy/: the compose file's structure and its agreement with the Dockerfile, the bot's options and
config/.env.example (docker itself is not run here)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_two_services_the_bot_built_here_and_a_gateway(compose):
    services = compose["services"]
    assert set(services) == {"bot", "gateway"}
    build = services["bot"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == REPO and (context / build["dockerfile"]).is_file()
    assert services["bot"]["depends_on"] == ["gateway"]
    assert services["gateway"]["image"].startswith("wechaty/wechaty:")
    for service in services.values():
        assert service["restart"] == "unless-stopped"


def test_the_bot_reaches_the_gateway_with_the_gateways_own_token(compose):
    gateway = compose["services"]["gateway"]["environment"]
    bot = compose["services"]["bot"]["environment"]
    host, port = bot["WECHATY_PUPPET_SERVICE_ENDPOINT"].split(":")
    assert host == "gateway" and port == gateway["WECHATY_PUPPET_SERVER_PORT"]
    token = VARIABLE.fullmatch(bot["WECHATY_PUPPET_SERVICE_TOKEN"]).group(1)
    assert VARIABLE.fullmatch(gateway["WECHATY_TOKEN"]).group(1) == token
    assert gateway["WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER"] == "true"  # python-wechaty has no TLS


def test_no_secret_is_written_in_the_file_and_every_variable_is_documented(compose):
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    for service in compose["services"].values():
        for name, value in service.get("environment", {}).items():
            if name.endswith(("TOKEN", "KEY", "SECRET")):
                assert VARIABLE.fullmatch(value), f"{name} must come from the environment"
    documented = {line.split("=")[0] for line in (REPO / "config" / ".env.example").read_text(encoding="utf-8")
                  .splitlines() if "=" in line and not line.startswith("#")}
    optional = {"WECHATY_IMAGE_TAG", "WECHATY_LOG"}  # have defaults in the file
    assert set(VARIABLE.findall(text)) - optional <= documented


def test_the_health_check_asks_the_port_the_bot_serves(compose):
    bot = compose["services"]["bot"]
    command = bot["command"]
    assert command[:2] == ["steward", "run"]
    port = command[command.index("--health-port") + 1]
    assert f"127.0.0.1:{port}/health" in " ".join(bot["healthcheck"]["test"])
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert f'"--health-port", "{port}"' in dockerfile


def test_state_is_kept_and_config_and_knowledge_are_mounted(compose):
    mounts = {m.split(":")[1]: m.split(":")[0] for m in compose["services"]["bot"]["volumes"]}
    assert (DEPLOY / mounts["/app/config"]).resolve() == REPO / "config"
    assert (DEPLOY / mounts["/app/knowledge"]).resolve() == REPO / "knowledge"
    assert mounts["/app/.steward"] in compose["volumes"]


def test_everything_the_dockerfile_copies_exists():
    for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), source
