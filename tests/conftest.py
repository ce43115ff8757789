import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

# Tasks published by tests go to an in-memory broker unless a test asks for the real one
# (tests/broker.py): nothing leaks into var/broker or a developer's Redis.
os.environ["CELERY_BROKER_URL"] = "memory://"

pytest_plugins = ["tests.broker", "tests.browser"]


@pytest.fixture(scope="session", autouse=True)
def _sqlite_flush_keeps_the_history_rule():
    """Transactional tests end with a flush. PostgreSQL flushes with TRUNCATE, which the
    append-only trigger on events allows; SQLite flushes with DELETE, which it refuses. On
    SQLite the flush drops the triggers, empties the tables and puts them back."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        yield
        return
    from django.db.backends.sqlite3.base import DatabaseOperations

    from tickets import db_triggers

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not statements:
            return statements
        return [*db_triggers.SQLITE_DROP, *statements, *db_triggers.SQLITE]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(autouse=True)
def _test_environment(settings):
    # Cached statistics (and throttle counts) of one test must not answer the next one's.
    cache.clear()
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
