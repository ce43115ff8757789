"""compose.yaml and the Dockerfile describe a stack that can actually run this project.

No Docker engine is needed: the file is parsed, its environment is checked against what
settings read, its commands against what exists, and the web service's command and
healthcheck are run for real with the environment compose would give them.
"""

import importlib
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import dj_database_url
import pytest
import yaml
from django.core.management import get_commands, load_command_class

from tests.test_settings import env_names_read

BASE_DIR = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, enough for this file."""

    def replace(match):
        given = variables.get(match["name"], "")
        if given:
            return given
        if match["op"] == ":?":
            raise LookupError(f"{match['name']}: {match['arg']}")
        return match["arg"] or ""

    return INTERPOLATION.sub(replace, value)


def container_env(service: dict, variables: dict[str, str]) -> dict[str, str]:
    """The environment compose would give the container (null entries pass through or unset)."""
    env = {}
    for name, value in service["environment"].items():
        if value is None:
            if name in variables:
                env[name] = variables[name]
        else:
            env[name] = interpolate(str(value), variables)
    return env


def command(service: dict) -> list[str]:
    cmd = service["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)


REQUIRED = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "weihai.example",
    "POSTGRES_PASSWORD": "s3cret",
}


# --- Shape ------------------------------------------------------------------------------------


def test_stack_has_database_broker_migration_web_worker_and_beat(services):
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"


def test_app_services_share_one_image_built_from_the_dockerfile(services):
    builds = {name: (services[name]["build"], services[name]["image"]) for name in APP_SERVICES}
    assert set(builds.values()) == {(".", "weihai-direct-line:latest")}
    assert (BASE_DIR / "Dockerfile").is_file()


def test_postgres_redis_and_web_have_healthchecks(services):
    assert services["postgres"]["healthcheck"]["test"] == [
        "CMD-SHELL",
        "pg_isready -U weihai -d weihai",
    ]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "http://127.0.0.1:8000/healthz" in services["web"]["healthcheck"]["test"][-1]
    assert "healthcheck" not in services["migrate"]


def test_healthchecked_postgres_user_and_database_are_the_ones_the_app_uses(services):
    postgres_env = services["postgres"]["environment"]
    assert (postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_DB"]) == ("weihai", "weihai")


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_long_running_services_wait_for_healthy_backends_and_finished_migration(services, name):
    assert services[name]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services[name]["restart"] == "unless-stopped"


def test_migration_runs_once_after_postgres_is_healthy(services):
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"


def test_web_is_published_on_loopback_only(services):
    assert services["web"]["ports"] == ["127.0.0.1:${WEB_PORT:-8000}:8000"]
    for name in ("postgres", "redis", "migrate", "worker", "beat"):
        assert "ports" not in services[name]


# --- Environment ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_uses_only_variables_settings_read(services, name):
    assert sorted(set(services[name]["environment"]) - env_names_read()) == []


def test_app_environment_sets_the_required_production_variables(services):
    env = services["web"]["environment"]
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"} <= set(env)
    assert env["DEBUG"] == "0"
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert env["CACHE_URL"] == "redis://redis:6379/1"


@pytest.mark.parametrize("name", ["SECRET_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD"])
def test_secrets_and_hosts_have_no_default(services, name):
    variables = {**REQUIRED}
    del variables[name]

    with pytest.raises(LookupError, match=f"^{name}: set {name}"):
        container_env(services["web"], variables) | container_env(services["postgres"], variables)


def test_database_url_parses_to_the_postgres_service(services):
    env = container_env(services["web"], REQUIRED)

    db = dj_database_url.parse(env["DATABASE_URL"])

    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("postgres", 5432, "weihai")
    assert (db["USER"], db["PASSWORD"]) == ("weihai", "s3cret")
    assert container_env(services["postgres"], REQUIRED)["POSTGRES_PASSWORD"] == "s3cret"


def test_pass_through_variables_reach_the_container_only_when_set(services):
    assert "EMAIL_HOST" not in container_env(services["worker"], REQUIRED)
    assert (
        container_env(services["worker"], {**REQUIRED, "EMAIL_HOST": "smtp.weihai.example"})[
            "EMAIL_HOST"
        ]
        == "smtp.weihai.example"
    )


def run_with_compose_env(args, services, tmp_path, **extra):
    env = container_env(services["web"], REQUIRED)
    # Same environment, but reachable from here instead of the compose network.
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("@postgres:", "@127.0.0.1:")
    env.update(
        PATH=os.environ["PATH"],
        LANG="C.UTF-8",
        DOTENV_FILE="",
        VAR_DIR=str(tmp_path / "var"),
        **extra,
    )
    return subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60)


def test_compose_environment_passes_the_deploy_check(services, tmp_path):
    result = run_with_compose_env(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        services,
        tmp_path,
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "System check identified no issues (1 silenced).\n"


# --- Commands point at real things ----------------------------------------------------------


def test_web_command_serves_the_project_wsgi_application(services):
    cmd = command(services["web"])

    assert cmd[:2] == ["gunicorn", "weihai.wsgi:application"]
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000"
    module, attribute = cmd[1].split(":")
    assert callable(getattr(importlib.import_module(module), attribute))


@pytest.mark.parametrize(("name", "subcommand"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_run_the_project_celery_app(services, name, subcommand):
    from weihai.celery import app

    cmd = command(services[name])

    assert cmd[:4] == ["celery", "-A", "weihai", subcommand]
    assert importlib.import_module("weihai").celery_app is app
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


def test_migrate_runs_existing_management_commands_with_valid_options(services):
    cmd = command(services["migrate"])
    assert cmd[:2] == ["sh", "-c"]

    steps = [shlex.split(step) for step in cmd[2].split("&&")]

    assert steps == [
        ["python", "manage.py", "migrate", "--noinput"],
        ["python", "manage.py", "load_reference_data", "--missing-only"],
    ]
    commands = get_commands()
    for _python, manage, name, *options in steps:
        assert name in commands, f"{manage} {name} does not exist"
        parser = load_command_class(commands[name], name).create_parser(manage, name)
        parser.parse_args(options)  # exits on an unknown option


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_web_command_and_healthcheck_work_with_the_compose_environment(services, tmp_path):
    port = free_port()
    cmd = command(services["web"])
    cmd[cmd.index("--bind") + 1] = f"127.0.0.1:{port}"
    cmd[0] = str(Path(sys.executable).with_name("gunicorn"))
    healthcheck = services["web"]["healthcheck"]["test"]
    assert healthcheck[:3] == ["CMD", "python", "-c"]
    probe = healthcheck[3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")

    env = container_env(services["web"], REQUIRED)
    env.update(PATH=os.environ["PATH"], DOTENV_FILE="", VAR_DIR=str(tmp_path / "var"))
    server = subprocess.Popen(
        cmd, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            result = subprocess.run(
                [sys.executable, "-c", probe], env=env, capture_output=True, text=True
            )
            if result.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.3)
        assert server.poll() is None, server.stderr.read().decode()
        assert result.returncode == 0, result.stderr

        # Everything but /healthz is redirected to HTTPS, and unknown hosts are refused.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/admin/", headers={"Host": "weihai.example"}
        )
        with pytest.raises(urllib.error.HTTPError) as redirect:
            urllib.request.build_opener(NoRedirect).open(request, timeout=5)
        assert redirect.value.code == 301
        assert redirect.value.headers["Location"] == "https://weihai.example/admin/"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert refused.value.code == 400
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_builds_a_non_root_image_with_static_files():
    dockerfile = (BASE_DIR / "Dockerfile").read_text(encoding="utf-8")
    instructions = [
        line.split(maxsplit=1)
        for line in dockerfile.splitlines()
        if line and not line.startswith((" ", "#"))
    ]

    assert instructions[0] == ["FROM", "python:3.11-slim"]
    assert ["EXPOSE", "8000"] in instructions
    user = [arg for keyword, arg in instructions if keyword == "USER"]
    assert user == ["weihai"]
    assert "collectstatic --noinput" in dockerfile
    # USER comes after every RUN: nothing runs as root once the app user is set.
    keywords = [keyword for keyword, _arg in instructions]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_dockerignore_keeps_local_secrets_and_state_out_of_the_image():
    ignored = (BASE_DIR / ".dockerignore").read_text(encoding="utf-8").splitlines()

    assert {".env", ".git", ".venv", "var/"} <= set(ignored)
