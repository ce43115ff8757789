"""Settings for 企业诉求直通车, read from environment variables (see .env.example)."""

import re
from datetime import timedelta as _timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from weihai.env import env_bool, env_float, env_int, env_list, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

# Local development reads .env (written by scripts/run); DOTENV_FILE names another file, and
# DOTENV_FILE= (empty) turns it off so a developer's .env cannot leak into tests. Read first,
# so that every variable below (VAR_DIR too) can come from it.
_dotenv_file = env_str("DOTENV_FILE", str(BASE_DIR / ".env"))
if _dotenv_file:
    load_dotenv(Path(_dotenv_file))

VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # DEBUG only (see above)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin with the workbench's site (weihai.admin_site): start pages, app order.
    "weihai.apps.WeihaiAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, not a CDN
    "django_celery_beat",
    "weihai.apps.WeihaiConfig",
    "enterprises",
    "tickets",
    "reports",
    "intake",
    "api",
    "portal",
    # Login throttling for the portal and the admin (failed attempts per username + address).
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files (admin CSS/JS, dashboard) from gunicorn: no CDN, no proxy.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before axes (which must be last): a view's lost database answers 503, not 500.
    "weihai.database_errors.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "weihai.urls"
WSGI_APPLICATION = "weihai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
# Embedded default: a SQLite file in var/. Production: DATABASE_URL=postgres://...
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # web, worker and beat share the file: WAL lets readers run beside one writer, and
        # IMMEDIATE transactions take the write lock up front instead of failing to upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DB_CONNECT_TIMEOUT", 5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed attempts for one username
# from one address, that pair is refused for LOGIN_COOLOFF_MINUTES. Its default (lock by
# address alone, forever) would let one office's shared address lock everyone out for good.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = _timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME.total_seconds() <= 0:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be positive.")
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_VERBOSE = False

# The enterprise portal (/portal/): where its login sends people, and the site's address for
# links in emails sent by workers (no request to take it from), e.g. https://weihai.example.
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:tickets"
SITE_URL = env_str("SITE_URL", "").rstrip("/")
# Days an invitation or password-reset link stays valid.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_DAYS", 3) * 86400

# --- Language and time ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request without it
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("CACHE_URL")}
        if env_str("CACHE_URL", "")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Seconds the dashboard and the statistics API reuse counted figures (reports.stats); the page
# says how old they are. Scheduled reports always count live. 0 counts every request live.
STATS_CACHE_SECONDS = env_int("STATS_CACHE_SECONDS", 120)
if STATS_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("STATS_CACHE_SECONDS must be 0 or more.")

# --- Security (check --deploy is clean when DEBUG is off) -----------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading binds the whole domain, every subdomain included, to HTTPS for months and anyone
# may submit a domain that sends the directive: the domain owner opts in with
# SECURE_HSTS_PRELOAD=1, and check --deploy does not nag about it (W021) until then.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The events' timeline index INCLUDEs two columns for PostgreSQL's index-only scans;
    # SQLite builds it without them (W040), which is all the embedded default needs.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Where django.core.mail.backends.filebased.EmailBackend writes one file per message.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "企业诉求直通车 <noreply@weihai.example>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Staff who are told when something needs a person: a missing working calendar, a bad row.
STAFF_ALERT_EMAILS = env_list("STAFF_ALERT_EMAILS", [])

# --- Celery -----------------------------------------------------------------------------
# Embedded default: Celery's filesystem transport in var/broker (no server to run).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
# Hard limit per task (a task may set a lower one); see the visibility timeout below.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
# Longest countdown of an automatic retry (tickets.tasks.RETRY, reports.tasks): a retry waits
# in the worker unacknowledged, so it counts against the visibility timeout like a running task.
CELERY_TASK_RETRY_BACKOFF_MAX = 300
# Redis re-queues a message that stayed unacknowledged this long. With acks_late that is how a
# task of a worker killed whole (SIGKILL, OOM, a lost host) runs again, so the timeout is the
# delay of that recovery: short, but above the longest a healthy message stays unacked — a
# retry's countdown plus the task's hard time limit (600 s + 300 s) — or a task still running
# (or waiting for its retry) would be handed to a second worker. 1,200 s instead of kombu's
# 3,600 s; tests/tickets/test_celery_config.py keeps the relation true for every task.
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 1200),
}
if (
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    <= CELERY_TASK_TIME_LIMIT + CELERY_TASK_RETRY_BACKOFF_MAX
):
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must be above CELERY_TASK_TIME_LIMIT + "
        f"{CELERY_TASK_RETRY_BACKOFF_MAX} s (the longest retry countdown), or running tasks "
        "are redelivered to a second worker."
    )
if CELERY_BROKER_URL.startswith("filesystem"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        data_folder_in=str(_broker_dir / "queue"),
        data_folder_out=str(_broker_dir / "queue"),
        processed_folder=str(_broker_dir / "processed"),
        # The exchange tables (kombu 5.6+); by default a "control" folder in the cwd.
        control_folder=str(_broker_dir / "control"),
        store_processed=False,
    )
elif CELERY_BROKER_URL.startswith(("redis", "rediss")):
    # A hung broker must not hang a request: fail the publish in seconds, not forever.
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        socket_timeout=env_float("CELERY_BROKER_SOCKET_TIMEOUT", 2.0),
        socket_connect_timeout=env_float("CELERY_BROKER_CONNECT_TIMEOUT", 2.0),
        retry_on_timeout=False,
    )
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECT_TIMEOUT", 2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "escalation-sweep": {
        "task": "tickets.escalation_sweep",
        "schedule": env_int("ESCALATION_SWEEP_SECONDS", 60),
        # A missed tick is superseded by the next one; never let ticks pile up.
        "options": {"expires": 50},
    },
    "reroute-sweep": {
        "task": "tickets.reroute_sweep",
        "schedule": env_int("REROUTE_SWEEP_SECONDS", 120),
        "options": {"expires": 110},
    },
    # Sends what was committed but never sent: failed or abandoned claims, events whose task
    # was lost, sweep steps no digest covered (tickets.notifications.redrive).
    "notification-redrive": {
        "task": "tickets.redrive_notifications",
        "schedule": env_int("NOTIFICATION_REDRIVE_SECONDS", 300),
        "options": {"expires": 280},
    },
    # Recomputes deadlines left provisional after a calendar year was confirmed, and sends
    # the day's alert (once a day, from 08:00) while this or, from 1 November, next year's
    # working calendar is unconfirmed (tickets.calendar_store.watch_calendar).
    "calendar-watch": {
        "task": "tickets.watch_calendar",
        "schedule": crontab(minute=7),
        "options": {"expires": 3000},
    },
    # Re-sends report snapshots the scheduled run could not send (the mail server down for
    # longer than the task's retries), until they go out (reports.reporting.resend_unsent).
    "report-resend": {
        "task": "reports.resend_unsent_reports",
        "schedule": env_int("REPORT_RESEND_SECONDS", 600),
        "options": {"expires": 540},
    },
    "weekly-report": {
        "task": "reports.scheduled_report",
        "schedule": crontab(minute=0, hour=8, day_of_week="mon"),
        "args": ("week",),
    },
    "monthly-report": {
        "task": "reports.scheduled_report",
        "schedule": crontab(minute=0, hour=8, day_of_month="1"),
        "args": ("month",),
    },
}

# --- Workflow ---------------------------------------------------------------------------
# Tickets still `submitted` this long after submission are routed by the sweep (the broker
# may have been down when they were submitted).
REROUTE_GRACE_SECONDS = env_int("REROUTE_GRACE_SECONDS", 300)

# --- Intake -----------------------------------------------------------------------------
# An imported row is checked for duplicates against the same enterprise's open tickets
# submitted in the last this-many days.
INTAKE_DUPLICATE_DAYS = env_int("INTAKE_DUPLICATE_DAYS", 90)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # django-axes logs every successful login at INFO; lockouts are warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- REST API (api/) -----------------------------------------------------------------------
# Token authentication with django-rest-knox: only a SHA-512 digest of each token is stored.
# Tokens are for integrations, so they live long; 0 means they never expire.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 365)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": _timedelta(days=API_TOKEN_TTL_DAYS) if API_TOKEN_TTL_DAYS > 0 else None,
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}


def _throttle_rate(name: str, default: str) -> str | None:
    """A DRF rate such as 120/min; "off" turns that throttle off."""
    raw = env_str(name, default).strip()
    if raw.lower() == "off":
        return None
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", raw):
        raise ImproperlyConfigured(
            f"Environment variable {name}={raw!r} is not a rate like 120/min (or off)."
        )
    return raw


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request then gets 401 with WWW-Authenticate: Token.
        "api.authentication.TokenAuthentication",
        "api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.JSONOnlyNegotiation",
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.TokenRateThrottle",
        "api.throttling.AnonymousRateThrottle",
    ],
    # Per token (or per staff session user) and per client address for anonymous requests.
    # A quota, not a flood defence: that is the reverse proxy's job.
    "DEFAULT_THROTTLE_RATES": {
        "token": _throttle_rate("API_THROTTLE_RATE", "120/min"),
        "anon": _throttle_rate("API_THROTTLE_ANON_RATE", "30/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # One error body everywhere: {"detail", "code", "field"} (+ "errors" per field).
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# The OpenAPI schema (/api/schema/) and Swagger UI (/api/docs/): public with DEBUG on; staff
# only when API_DOCS_PUBLIC is off (the production default); absent when API_DOCS is off.
API_DOCS = env_bool("API_DOCS", True)
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "企业诉求直通车 API",
    "DESCRIPTION": (
        "威海企业诉求直通车 REST API（v1）。企业账号提交并跟踪本企业的诉求，责任单位办理分派给"
        "本单位的诉求。认证：请求头 `Authorization: Token <令牌>`；工作人员也可使用管理后台的"
        "会话（需 CSRF）。错误以 JSON 返回：`detail`（说明）、`code`（错误代码）、`field`"
        "（出错字段，可为空）；默认中文，`Accept-Language: en` 返回英文。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TicketKindEnum": "tickets.models.Kind",
        "TicketStatusEnum": "tickets.models.Status",
        "LevelEnum": "enterprises.models.Tier",
        "OutcomeEnum": "api.serializers.OUTCOME_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.document_common_responses",
    ],
}

# bench/api.py only: adds /api/bench/baseline/ (one INSERT into a scratch table) so the
# benchmark has a bare endpoint on the same server to compare against. Never in production.
API_BENCH_ENDPOINTS = env_bool("API_BENCH_ENDPOINTS", False)
