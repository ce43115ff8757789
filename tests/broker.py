"""Fixtures for tests that run a real Celery worker against the real Redis broker.

The worker is a subprocess using the test database, so tests using it need
`@pytest.mark.django_db(transaction=True)` (the worker must see committed rows).
Redis is required: when it does not answer, the test fails — it is not skipped.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def redis_url() -> str:
    """TEST_REDIS_URL; under pytest-xdist each worker takes its own database number below it,
    so two workers' Celery workers never consume each other's tasks."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    if not number.isdigit():
        base, number = url.rstrip("/"), "15"
    return f"{base}/{max(int(number) - int(worker[2:]), 0)}"


def _point_app_at(url: str) -> None:
    from weihai.celery import app

    # Celery prefers the CELERY_BROKER_URL environment variable over its configuration.
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app.conf.broker_transport_options = {
        "socket_timeout": 2,
        "socket_connect_timeout": 2,
        "visibility_timeout": 1200,
    }
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_broker():
    """Point this process's Celery app at the test Redis (purged), restore afterwards."""
    import redis

    from weihai.celery import app

    url = redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {url} does not answer ({error}); set TEST_REDIS_URL")
    saved = (app.conf.broker_url, dict(app.conf.broker_transport_options or {}))
    redis.Redis.from_url(url).flushdb()
    _point_app_at(url)
    yield url
    _point_app_at(saved[0])
    app.conf.broker_transport_options = saved[1]


def broker_down() -> None:
    """Make publishing fail fast, as when the broker is unreachable."""
    _point_app_at("redis://127.0.0.1:1/0")


def broker_back(url: str) -> None:
    _point_app_at(url)


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def database_url() -> str:
    """The test database, for a subprocess (a worker, a management command)."""
    return _database_url()


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    """Extra environment for the worker; override it in a test module (e.g. a mail backend
    the test can read: the worker's locmem outbox is another process's memory)."""
    return {}


@pytest.fixture
def celery_worker(celery_broker, celery_worker_env, tmp_path):
    """A real `celery worker` subprocess on the test database and the test broker."""
    from weihai.celery import app

    assert connection.vendor == "postgresql", "worker tests need PostgreSQL"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": celery_broker,
        "DEBUG": "1",
        "DOTENV_FILE": "",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "REROUTE_GRACE_SECONDS": "300",
        **celery_worker_env,
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "weihai",
                "worker",
                "--pool=solo",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail(f"worker exited early:\n{log.read_text()}")
        if app.control.ping(timeout=0.5):
            break
    else:
        worker.terminate()
        pytest.fail(f"worker did not start:\n{log.read_text()}")
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    connection.close()


def wait_for(predicate, timeout: float = 30, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
