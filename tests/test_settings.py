"""Start-up behaviour of weihai/settings.py under controlled environments.

Settings are imported once per process, so every start-up case runs in a subprocess with an
environment built from scratch (no developer .env, no inherited DEBUG or SECRET_KEY).
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_HELPERS = ("env_str", "env_bool", "env_int", "env_float", "env_list")
# A settings helper that hands its first parameter to env_*, like _throttle_rate(name, default).
ENV_WRAPPER = re.compile(
    r"^def (?P<name>\w+)\((?P<param>\w+)[^\n]*\n(?P<body>(?:[ \t]+[^\n]*\n|\n)+)", re.MULTILINE
)
ENV_EXAMPLE_LINE = re.compile(r"^#? ?(?P<name>[A-Z][A-Z0-9_]*)=", re.MULTILINE)

SETUP = "import django; django.setup()"


def settings_sources() -> list[Path]:
    """Project modules that may read the environment: all of it goes through weihai.env."""
    skip = {".venv", "var", "tests", "bench", "node_modules", ".git", "build"}
    return sorted(
        path
        for path in BASE_DIR.rglob("*.py")
        if not skip & set(path.relative_to(BASE_DIR).parts) and path.name != "env.py"
    )


def env_calls(text: str) -> tuple[list[str], set[str]]:
    """First arguments of env_* calls (and of wrappers around them), and the wrappers' params."""
    readers, params = set(ENV_HELPERS), set()
    for wrapper in ENV_WRAPPER.finditer(text):
        if re.search(rf"\b(?:{'|'.join(ENV_HELPERS)})\(\s*{wrapper['param']}\b", wrapper["body"]):
            readers.add(wrapper["name"])
            params.add(wrapper["param"])
    call = re.compile(rf"(?<!def )\b(?:{'|'.join(readers)})\(\s*(?P<arg>[^\s,)]+)")
    return [match["arg"] for match in call.finditer(text)], params


def env_names_read() -> set[str]:
    """Every NAME in an ``env_*("NAME", ...)`` call of the project."""
    names = set()
    for path in settings_sources():
        args, _params = env_calls(path.read_text(encoding="utf-8"))
        names.update(arg.strip('"') for arg in args if arg.startswith('"'))
    return names


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "weihai.example",
        # check does not connect; if a check ever does, this is the server the tests use.
        "DATABASE_URL": os.environ.get("DATABASE_URL", "")
        if os.environ.get("DATABASE_URL", "").startswith("postgres")
        else "postgres://postgres@127.0.0.1:5432/weihai",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }
    env.update(overrides)
    return env


def run(tmp_path: Path, args: list[str], **env_vars: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "DJANGO_SETTINGS_MODULE": "weihai.settings",
        "DOTENV_FILE": "",
        "VAR_DIR": str(tmp_path / "var"),
        **env_vars,
    }
    env = {name: value for name, value in env.items() if value is not None}  # None: unset
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def reported_check_ids(output: str) -> set[str]:
    return set(re.findall(r"^\?: \(([\w.]+)\)", output, re.MULTILINE))


# --- Malformed values stop start-up with a message naming the variable ----------------------


def test_malformed_boolean_stops_startup_naming_the_variable(tmp_path):
    result = run(tmp_path, ["-c", SETUP], DEBUG="ture", SECRET_KEY="x" * 50)

    assert result.returncode == 1
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: Environment variable DEBUG='ture' "
        "is not a boolean; use one of ['1', 'on', 'true', 'yes'] or ['0', 'false', 'no', 'off']."
    )


def test_malformed_integer_stops_startup_naming_the_variable(tmp_path):
    result = run(tmp_path, ["-c", SETUP], DEBUG="1", EMAIL_PORT="abc")

    assert result.returncode == 1
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: "
        "Environment variable EMAIL_PORT='abc' is not an integer."
    )


def test_malformed_number_stops_startup_naming_the_variable(tmp_path):
    result = run(tmp_path, ["-c", SETUP], DEBUG="1", CELERY_BROKER_CONNECT_TIMEOUT="soon")

    assert result.returncode == 1
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: "
        "Environment variable CELERY_BROKER_CONNECT_TIMEOUT='soon' is not a number."
    )


def test_negative_statistics_cache_time_stops_startup(tmp_path):
    result = run(tmp_path, ["-c", SETUP], DEBUG="1", STATS_CACHE_SECONDS="-5")

    assert result.returncode == 1
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: STATS_CACHE_SECONDS must be 0 or more."
    )


@pytest.mark.parametrize(
    "env_vars",
    [{"DEBUG": "0"}, {}, {"DEBUG": "0", "SECRET_KEY": ""}],
    ids=["debug-off", "debug-unset", "secret-key-empty"],
)
def test_missing_secret_key_stops_startup_when_debug_is_off(tmp_path, env_vars):
    result = run(tmp_path, ["-c", SETUP], **env_vars)

    assert result.returncode == 1
    assert last_line(result.stderr).startswith(
        "django.core.exceptions.ImproperlyConfigured: "
        "SECRET_KEY must be set when DEBUG is off (generate one with "
    )


def test_debug_on_starts_without_secret_key(tmp_path):
    result = run(
        tmp_path,
        ["-c", SETUP + "; from django.conf import settings; print(settings.SECRET_KEY)"],
        DEBUG="1",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "django-insecure-local-development-only\n"


def test_the_embedded_default_database_passes_the_system_checks_silently(tmp_path):
    # SQLite cannot INCLUDE columns in an index (models.W040); the index still works there, so
    # the embedded default must not greet every command with that warning.
    result = run(tmp_path, ["manage.py", "check", "--database", "default"], DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert "W040" not in result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


# --- check --deploy ------------------------------------------------------------------------


def test_deploy_check_is_clean_with_production_values(tmp_path):
    result = run(
        tmp_path,
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **production_env(tmp_path),
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "System check identified no issues (1 silenced).\n"


def test_deploy_check_reports_wildcard_allowed_hosts(tmp_path):
    result = run(
        tmp_path,
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **production_env(tmp_path, ALLOWED_HOSTS="*"),
    )

    assert result.returncode == 1
    assert reported_check_ids(result.stderr) == {"weihai.W001"}
    assert "?: (weihai.W001) ALLOWED_HOSTS contains '*' while DEBUG is off." in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "check_id"),
    [
        ("SECURE_SSL_REDIRECT", "0", "security.W008"),
        ("SECURE_HSTS_SECONDS", "0", "security.W004"),
        ("SESSION_COOKIE_SECURE", "0", "security.W012"),
        ("CSRF_COOKIE_SECURE", "0", "security.W016"),
        ("SECRET_KEY", "too-short", "security.W009"),
    ],
)
def test_deploy_check_is_clean_only_because_of_production_defaults(
    tmp_path, variable, value, check_id
):
    result = run(
        tmp_path,
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **production_env(tmp_path, **{variable: value}),
    )

    assert result.returncode == 1
    assert reported_check_ids(result.stderr) == {check_id}


# --- Language, time and broker -------------------------------------------------------------


def test_time_zone_and_languages_are_chinese_first_with_english():
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]


def celery_conf(tmp_path: Path, **env_vars: str) -> dict:
    code = (
        SETUP + "; import json; from weihai.celery import app; c = app.conf; print(json.dumps({"
        "'transport': c.broker_transport_options, 'connect': c.broker_connection_timeout,"
        "'publish': c.task_publish_retry_policy, 'time_limit': c.task_time_limit}))"
    )
    result = run(tmp_path, ["-c", code], DEBUG="1", **env_vars)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_redis_broker_gets_short_socket_and_connect_timeouts(tmp_path):
    conf = celery_conf(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:6379/0")

    assert conf["transport"] == {
        "visibility_timeout": 1200,
        "socket_timeout": 2.0,
        "socket_connect_timeout": 2.0,
        "retry_on_timeout": False,
    }
    assert conf["connect"] == 2.0
    assert conf["publish"]["max_retries"] == 2
    # A task still running must never be redelivered to a second worker.
    assert conf["time_limit"] < conf["transport"]["visibility_timeout"]


def test_broker_timeouts_can_be_tuned_from_the_environment(tmp_path):
    conf = celery_conf(
        tmp_path,
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        CELERY_BROKER_SOCKET_TIMEOUT="0.5",
        CELERY_BROKER_CONNECT_TIMEOUT="1.5",
    )

    assert conf["transport"]["socket_timeout"] == 0.5
    assert conf["transport"]["socket_connect_timeout"] == 1.5
    assert conf["connect"] == 1.5


def test_publishing_to_a_hung_broker_fails_within_seconds(tmp_path):
    # Accepts TCP connections (the kernel completes the handshake) and never answers.
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    port = hung.getsockname()[1]
    code = (
        SETUP + "\nimport time\nfrom weihai.celery import app\nstarted = time.monotonic()\n"
        "try:\n    app.send_task('tickets.route_ticket', args=[1])\n"
        "except Exception as exc:\n    print(type(exc).__module__, type(exc).__name__, exc)\n"
        "print(round(time.monotonic() - started, 1))\n"
    )
    try:
        result = run(
            tmp_path, ["-c", code], DEBUG="1", CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0"
        )
    finally:
        hung.close()

    assert result.returncode == 0, result.stderr
    error, elapsed = result.stdout.splitlines()
    assert error == "kombu.exceptions OperationalError Timeout reading from socket"
    assert float(elapsed) < 6


def test_embedded_default_broker_is_the_filesystem_under_var_dir(tmp_path):
    conf = celery_conf(tmp_path)

    broker = tmp_path / "var" / "broker"
    assert conf["transport"]["data_folder_in"] == str(broker / "queue")
    assert conf["transport"]["processed_folder"] == str(broker / "processed")
    assert conf["transport"]["control_folder"] == str(broker / "control")


def test_publishing_on_the_embedded_broker_writes_only_under_var_dir(tmp_path):
    result = run(
        tmp_path,
        ["-c", SETUP + "; from tickets import effects; print(effects.publish('x.y', 1))"],
        DEBUG="1",
    )

    assert result.stdout == "True\n", result.stderr
    broker = tmp_path / "var" / "broker"
    assert len(list((broker / "queue").iterdir())) == 1
    assert (broker / "control" / "celery.exchange").exists()
    assert not (BASE_DIR / "control").exists()  # kombu's default: the working directory


# --- Dotenv file ---------------------------------------------------------------------------

PRINT_SETTINGS = (
    SETUP + "; from django.conf import settings as s; print(s.DEBUG, s.VAR_DIR, s.EMAIL_PORT)"
)


def test_dotenv_file_supplies_variables_including_var_dir(tmp_path):
    dotenv = tmp_path / "custom.env"
    var_dir = tmp_path / "from-dotenv"
    dotenv.write_text(f"# comment\nDEBUG=1\nVAR_DIR={var_dir}\nEMAIL_PORT='2525'\n")

    result = run(tmp_path, ["-c", PRINT_SETTINGS], DOTENV_FILE=str(dotenv), VAR_DIR=None)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"True {var_dir} 2525\n"
    assert var_dir.is_dir()


def test_real_environment_wins_over_dotenv_file(tmp_path):
    dotenv = tmp_path / "custom.env"
    dotenv.write_text("DEBUG=1\nEMAIL_PORT=2525\n")

    result = run(
        tmp_path,
        ["-c", PRINT_SETTINGS],
        DOTENV_FILE=str(dotenv),
        DEBUG="0",
        SECRET_KEY="x" * 50,
        EMAIL_PORT="587",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False ")
    assert result.stdout.endswith(" 587\n")


def test_malformed_dotenv_line_stops_startup_naming_file_and_line(tmp_path):
    dotenv = tmp_path / "custom.env"
    dotenv.write_text("DEBUG=1\nnot a setting\n")

    result = run(tmp_path, ["-c", SETUP], DOTENV_FILE=str(dotenv))

    assert result.returncode == 1
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: "
        f"{dotenv}:2: expected KEY=VALUE, got 'not a setting'."
    )


@pytest.fixture
def settings_copy(tmp_path):
    """weihai/settings.py copied into a scratch project, so its BASE_DIR/.env is ours to write."""
    project = tmp_path / "project"
    (project / "weihai").mkdir(parents=True)
    shutil.copy(BASE_DIR / "weihai" / "settings.py", project / "weihai" / "settings.py")
    (project / ".env").write_text("DEBUG=1\nEMAIL_PORT=2525\n")
    return project / "weihai" / "settings.py"


def run_settings_copy(tmp_path, settings_file, **env_vars):
    code = (
        "import runpy, sys; s = runpy.run_path(sys.argv[1]); "
        "print(s['DEBUG'], s['EMAIL_PORT'], s['VAR_DIR'])"
    )
    env = {"VAR_DIR": str(tmp_path / "var"), **env_vars}
    return run(tmp_path, ["-c", code, str(settings_file)], **env)


def test_dotenv_next_to_the_project_is_read_by_default(tmp_path, settings_copy):
    result = run_settings_copy(tmp_path, settings_copy, DOTENV_FILE=None)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"True 2525 {tmp_path / 'var'}\n"


def test_empty_dotenv_file_variable_turns_dotenv_off(tmp_path, settings_copy):
    result = run_settings_copy(tmp_path, settings_copy, DOTENV_FILE="", SECRET_KEY="x" * 50)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"False 25 {tmp_path / 'var'}\n"


# --- .env.example ----------------------------------------------------------------------------


def test_settings_read_environment_only_by_literal_names():
    # A computed name would hide a variable from .env.example and from the compose test.
    computed = []
    for path in settings_sources():
        args, params = env_calls(path.read_text(encoding="utf-8"))
        assert path.name != "settings.py" or len(args) > 30, "the scan is broken"
        computed += [
            (path.name, arg)
            for arg in args
            if not re.fullmatch(r'"[A-Z][A-Z0-9_]*"', arg) and arg not in params
        ]
    assert computed == []


def test_env_example_lists_every_variable_the_settings_read():
    listed = set(ENV_EXAMPLE_LINE.findall((BASE_DIR / ".env.example").read_text("utf-8")))
    read = env_names_read()

    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DOTENV_FILE"} <= read
    assert sorted(read - listed) == [], "add these to .env.example"
    assert sorted(listed - read) == [], ".env.example lists variables nothing reads"


# --- Email ---------------------------------------------------------------------------------


def test_email_file_path_is_read_from_the_environment(tmp_path):
    code = SETUP + "; from django.conf import settings; print(settings.EMAIL_FILE_PATH)"
    outbox = tmp_path / "outbox"
    result = run(tmp_path, ["-c", code], DEBUG="1", EMAIL_FILE_PATH=str(outbox))
    assert result.returncode == 0, result.stderr
    assert last_line(result.stdout) == str(outbox)
    default = run(tmp_path, ["-c", code], DEBUG="1")
    assert last_line(default.stdout) == str(tmp_path / "var" / "mail")


def test_the_file_email_backend_writes_where_email_file_path_says(tmp_path):
    outbox = tmp_path / "outbox"
    code = (
        SETUP
        + "; from django.core.mail import send_mail; send_mail('s', 'b', 'a@x.cn', ['b@x.cn'])"
    )
    result = run(
        tmp_path,
        ["-c", code],
        DEBUG="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(outbox),
    )
    assert result.returncode == 0, result.stderr
    assert len(list(outbox.iterdir())) == 1


def test_a_visibility_timeout_below_the_task_time_limit_stops_startup(tmp_path):
    code = SETUP
    result = run(tmp_path, ["-c", code], DEBUG="1", CELERY_VISIBILITY_TIMEOUT="600")
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT must be above CELERY_TASK_TIME_LIMIT" in result.stderr
