"""compose.yaml and the Dockerfile describe a stack that can start.

No container is started here: these tests read both files and check what would otherwise fail
only at ``docker compose up`` time: a command the image does not have, a dependency on a service
that does not exist or cannot report health, a second scheduler, a missing setting.
"""

from __future__ import annotations

import json
import shlex
import tomllib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from click.testing import CliRunner as ClickRunner
from typer.testing import CliRunner as TyperRunner

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

#: built from the repository's Dockerfile; each runs one of our commands
APP_SERVICES = ("migrate", "api", "worker", "beat")
#: third-party images the application needs
BACKING_SERVICES = ("postgres", "redis", "mailpit")
ENV_ANCHOR = "x-roundtable-env"
REQUIRED_SETTINGS = tuple(
    f"ROUNDTABLE_{name}"
    for name in ("DATABASE_URL", "BROKER_URL", "MAIL_URL", "BASE_URL", "SECRET_KEY")
)
#: what the image needs beside the installed package (see roundtable.paths)
FILES_BESIDE_THE_PACKAGE = ("alembic.ini", "migrations", "templates", "examples")
ROOT_USERS = ("root", "0")


@cache
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "compose.yaml must be a mapping"
    return document


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"compose.yaml has no service {name!r}"
    return dict(services[name])


def command_words(value: str | list[str]) -> list[str]:
    """A compose or Dockerfile command, as the words the container runs."""
    return shlex.split(value) if isinstance(value, str) else [str(word) for word in value]


def dependencies(definition: dict[str, Any]) -> dict[str, str]:
    """``depends_on`` in either spelling (a list, or a mapping with conditions) → condition."""
    depends_on = definition.get("depends_on") or {}
    if isinstance(depends_on, list):
        return {name: "service_started" for name in depends_on}
    return {
        name: (spec or {}).get("condition", "service_started") for name, spec in depends_on.items()
    }


# -- the Dockerfile ------------------------------------------------------------------------------


@cache
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    last_stage = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_stage:]


def dockerfile_arguments(keyword: str) -> list[str]:
    return [arguments for found, arguments in dockerfile_instructions() if found == keyword]


def exec_form(arguments: str) -> list[str]:
    """A JSON-array instruction argument; the shell form would keep signals from the process."""
    words = json.loads(arguments)
    assert isinstance(words, list) and all(isinstance(word, str) for word in words)
    return words


def dockerfile_cmd() -> list[str]:
    commands = dockerfile_arguments("CMD")
    assert commands, "the Dockerfile has no CMD"
    return exec_form(commands[-1])


def dockerignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def option_value(words: list[str], option: str) -> str | None:
    """The value of ``--option VALUE`` or ``--option=VALUE`` among ``words``."""
    for position, word in enumerate(words):
        if word == option and position + 1 < len(words):
            return words[position + 1]
        if word.startswith(option + "="):
            return word.split("=", 1)[1]
    return None


# -- commands: each one is checked against the program it names -----------------------------------


def check_roundtable_command(arguments: list[str]) -> None:
    """The console script is declared, and the CLI accepts these words and options."""
    from roundtable.cli import app

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "roundtable" in pyproject["project"]["scripts"], "no roundtable console script"
    result = TyperRunner().invoke(app, [*arguments, "--help"], prog_name="roundtable")
    assert result.exit_code == 0, f"roundtable {shlex.join(arguments)}: {result.output}"


def check_celery_command(arguments: list[str]) -> None:
    """``-A workers`` loads our Celery app, and Celery accepts the subcommand and its options."""
    from celery import Celery
    from celery.bin.celery import celery as celery_cli

    import workers

    assert isinstance(workers.app, Celery)
    application = option_value(arguments, "-A") or option_value(arguments, "--app")
    assert application == "workers", f"celery must load the workers package, not {application}"
    result = ClickRunner().invoke(celery_cli, [*arguments, "--help"], prog_name="celery")
    assert result.exit_code == 0, f"celery {shlex.join(arguments)}: {result.output}"


EXECUTABLES = {"roundtable": check_roundtable_command, "celery": check_celery_command}


def check_command(words: list[str]) -> None:
    assert words, "empty command"
    executable, *arguments = words
    assert executable in EXECUTABLES, f"{executable!r} is not a program the image provides"
    EXECUTABLES[executable](arguments)


# -- tests ---------------------------------------------------------------------------------------


def test_every_service_is_defined() -> None:
    assert set(APP_SERVICES) | set(BACKING_SERVICES) <= set(compose()["services"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_from_the_repository_dockerfile(name: str) -> None:
    build = service(name).get("build")
    if isinstance(build, dict):
        assert build.get("context", ".") == "."
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    else:
        assert build == ".", f"{name} must be built from the repository (build: .)"
    assert DOCKERFILE.is_file()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_commands_exist(name: str) -> None:
    command = service(name).get("command")
    assert command, f"{name} has no command"
    check_command(command_words(command))


def test_the_image_default_command_exists() -> None:
    check_command(dockerfile_cmd())


def test_api_publishes_the_port_it_serves_on() -> None:
    api = service("api")
    port = option_value(command_words(api["command"]), "--port")
    assert port is not None
    published = [str(mapping).rsplit(":", 1)[-1] for mapping in api.get("ports", [])]
    assert port in published, f"api serves on {port} but publishes {published}"


def test_api_waits_for_the_migration_and_its_services() -> None:
    assert dependencies(service("api")) == {
        "migrate": "service_completed_successfully",
        "postgres": "service_healthy",
        "redis": "service_healthy",
    }


def test_the_migration_waits_until_the_database_accepts_connections() -> None:
    assert dependencies(service("migrate")) == {"postgres": "service_healthy"}


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_workers_start_after_the_schema_and_the_broker(name: str) -> None:
    waits_for = dependencies(service(name))
    assert waits_for.get("migrate") == "service_completed_successfully"
    assert waits_for.get("redis") == "service_healthy"


def test_every_dependency_exists_and_can_meet_its_condition() -> None:
    services = compose()["services"]
    for name, definition in services.items():
        for target, condition in dependencies(definition).items():
            assert target in services, f"{name} depends on {target}, which is not defined"
            if condition == "service_healthy":
                check = services[target].get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), (
                    f"{name} waits for {target} to be healthy, but {target} has no healthcheck"
                )
            if condition == "service_completed_successfully":
                assert services[target].get("restart", "no") == "no", (
                    f"{target} must run once for {name} to see it complete"
                )


@pytest.mark.parametrize("name", ["postgres", "redis"])
def test_backing_services_report_their_health(name: str) -> None:
    check = service(name).get("healthcheck")
    assert check and check.get("test") and not check.get("disable")


def test_the_database_keeps_its_data_in_a_named_volume() -> None:
    volumes = compose().get("volumes") or {}
    mounts = [str(mount).split(":", 1)[0] for mount in service("postgres").get("volumes", [])]
    assert any(source in volumes for source in mounts), mounts


def test_there_is_exactly_one_beat() -> None:
    beats = [
        name
        for name, definition in compose()["services"].items()
        if " beat" in " " + " ".join(command_words(definition.get("command") or []))
    ]
    assert beats == ["beat"]
    replicas = (service("beat").get("deploy") or {}).get("replicas", 1)
    assert replicas == 1, "a second beat would schedule every periodic task twice"


def test_the_fanout_benchmark_measures_the_workers_as_compose_runs_them() -> None:
    from bench.fanout import WORKER_CONCURRENCY

    words = command_words(service("worker")["command"])
    assert f"--concurrency={WORKER_CONCURRENCY}" in words


def test_beat_keeps_its_schedule_file_where_it_may_write() -> None:
    words = command_words(service("beat")["command"])
    schedule = option_value(words, "--schedule") or option_value(words, "-s")
    assert schedule is not None and schedule.startswith("/tmp/"), (
        "the image's working directory is not writable by its user; give beat -s /tmp/..."
    )


def test_the_shared_environment_names_every_setting() -> None:
    from roundtable.config import Settings

    environment = compose()[ENV_ANCHOR]
    assert set(REQUIRED_SETTINGS) <= set(environment)
    known = {f"ROUNDTABLE_{field.upper()}" for field in Settings.model_fields}
    assert set(environment) <= known, f"not Roundtable settings: {set(environment) - known}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_use_the_shared_environment(name: str) -> None:
    environment = service(name).get("environment") or {}
    assert isinstance(environment, dict)
    for key, value in compose()[ENV_ANCHOR].items():
        assert environment.get(key) == value, f"{name}: {key}"


def test_the_secret_key_must_be_given() -> None:
    secret = compose()[ENV_ANCHOR]["ROUNDTABLE_SECRET_KEY"]
    assert secret.startswith("${ROUNDTABLE_SECRET_KEY:?"), (
        "without a required variable, each container would generate a secret of its own"
    )


def test_the_urls_point_at_the_compose_services() -> None:
    environment = compose()[ENV_ANCHOR]
    database = urlsplit(environment["ROUNDTABLE_DATABASE_URL"])
    postgres = service("postgres")["environment"]
    assert database.scheme == "postgresql+psycopg"
    assert database.hostname == "postgres"
    assert (database.username, database.password, database.path.lstrip("/")) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    assert urlsplit(environment["ROUNDTABLE_BROKER_URL"]).hostname == "redis"
    mail = urlsplit(environment["ROUNDTABLE_MAIL_URL"])
    assert (mail.scheme, mail.hostname, mail.port) == ("smtp", "mailpit", 1025)


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = dockerfile_arguments("USER")
    assert users, "the Dockerfile has no USER: the services would run as root"
    assert users[-1].split(":")[0] not in ROOT_USERS


def test_the_image_checks_its_health_without_curl() -> None:
    checks = dockerfile_arguments("HEALTHCHECK")
    assert checks, "the Dockerfile has no HEALTHCHECK"
    check = checks[-1]
    command = exec_form(check[check.index("CMD") + len("CMD") :].strip())
    assert command[0] == "python"
    port = option_value(dockerfile_cmd(), "--port")
    assert f":{port}/healthz" in command[-1]


def test_the_image_holds_what_roundtable_reads_beside_the_package() -> None:
    copied = {
        Path(source).parts[0]
        for arguments in dockerfile_arguments("COPY")
        for source in shlex.split(arguments)[:-1]
        if not source.startswith("--")
    }
    ignored = dockerignore_patterns()
    for name in FILES_BESIDE_THE_PACKAGE:
        assert name in copied, f"the Dockerfile does not copy {name}"
        assert (ROOT / name).exists()
        assert name not in ignored, f".dockerignore leaves {name} out of the build"


def test_local_state_stays_out_of_the_build_context() -> None:
    assert {".git", ".venv", "var"} <= set(dockerignore_patterns())
