import os

import pytest
from django.conf import settings
from django.utils import translation

# Tasks published by tests go to an in-memory broker unless a test asks for the real one
# (tests/broker.py): nothing leaks into var/broker or a developer's Redis.
os.environ["CELERY_BROKER_URL"] = "memory://"

pytest_plugins = ["tests.broker"]


@pytest.fixture(autouse=True)
def _test_environment(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STAFF_ALERT_EMAILS = []
    # scripts/test runs with DEBUG off, so the production default would answer every
    # plain-HTTP test-client request with a 301 to https (tests/test_compose.py covers it).
    settings.SECURE_SSL_REDIRECT = False
    yield
    # LocaleMiddleware activates a request's language in the test's thread and leaves it
    # there: an API test asking for English would turn the next test's labels English.
    translation.deactivate()


def pytest_collection_modifyitems(config, items):
    """On SQLite (the embedded default) tests marked `postgres` are deselected: row locks
    are no-ops there and the concurrency tests' threads need a real server. So are `broker`
    tests: their worker is another process, which cannot open the in-memory test database.
    Both run in the PostgreSQL pass of scripts/test."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return
    selected, deselected = [], []
    for item in items:
        pg_only = item.get_closest_marker("postgres") or item.get_closest_marker("broker")
        (deselected if pg_only else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or ''} {db['NAME']}"
