"""Settings shared by every environment. Everything that differs per machine comes from the environment."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VERSION = "0.1.0"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


DATA_DIR = Path(os.environ.get("DATA_DIR") or BASE_DIR / "data").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def persistent_secret_key() -> str:
    """A laptop install needs no configuration: keep a random key in DATA_DIR so sessions and tokens survive restarts."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or persistent_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "langbot_site.admin_site.LangBotAdminConfig",  # django.contrib.admin with our index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "apikeys",
    "providers",
    "plugins",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "langbot_site.urls"
WSGI_APPLICATION = "langbot_site.wsgi.application"
ASGI_APPLICATION = "langbot_site.asgi.application"

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


def database_from_env(default_sqlite: Path) -> dict:
    """DATABASE_URL wins; otherwise an SQLite file in DATA_DIR, tuned for concurrent web + worker access."""
    config = dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{default_sqlite}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers proceed while one writer writes; IMMEDIATE takes the write lock up front so two
        # writers queue for `timeout` seconds instead of failing with "database is locked" mid-transaction.
        config["CONN_MAX_AGE"] = 0 if config["NAME"] == ":memory:" else config["CONN_MAX_AGE"]
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        }
    return config


DATABASES = {"default": database_from_env(DATA_DIR / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files straight from the apps in the laptop setup (no collectstatic needed).
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/admin/login/"
APPEND_SLASH = True

# Request bodies: JSON bodies above 2 MiB and uploads above PLUGIN_UPLOAD_MAX_BYTES are refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Key first so that "Bearer lbk_…" never reaches the JWT parser; its authenticate_header makes failures 401.
        "apikeys.authentication.APIKeyAuthentication",
        "accounts.authentication.UserTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apikeys.permissions.HasRouteScope"],
    "DEFAULT_RENDERER_CLASSES": [
        "langbot_site.api.EnvelopeJSONRenderer",
        "langbot_site.api.EnvelopeBrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "langbot_site.api.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "langbot_site.schema.EnvelopeAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": os.environ.get("LOGIN_RATE_PER_IP", "20/min"),
        "login_user": os.environ.get("LOGIN_RATE_PER_USER", "10/min"),
    },
}

SIMPLE_JWT = {
    # LangBot issues week-long user tokens; check-token hands out a fresh one.
    "ACCESS_TOKEN_LIFETIME": timedelta(days=env_int("JWT_EXPIRE_DAYS", 7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

# API keys: HMAC-SHA256(pepper, secret). Kept apart from SECRET_KEY so that either can be rotated on its own.
API_KEY_PEPPER = os.environ.get("API_KEY_PEPPER") or SECRET_KEY
API_KEY_LAST_USED_INTERVAL = timedelta(seconds=60)

SPECTACULAR_SETTINGS = {
    "TITLE": "LangBot Service API",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "langbot_site.schema.envelope_hook"],
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": False, "filter": True},
    "TAGS": [
        {"name": "Providers"}, {"name": "Models - LLM"}, {"name": "Models - Embedding"}, {"name": "Models - Rerank"},
        {"name": "Requesters"}, {"name": "API Keys"}, {"name": "Plugins"}, {"name": "Tasks"}, {"name": "User"},
        {"name": "System"},
    ],
}

# Celery: Redis when REDIS_URL is set, otherwise a broker in DATA_DIR that needs no server.
CELERY_BROKER_DIR = DATA_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    for sub in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "langbot_site.broker:Transport"  # kombu's, with atomic writes
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),  # otherwise kombu writes ./control in the cwd
        "store_processed": False,
        "polling_interval": 0.2,  # seconds between looks at the folder: keeps a plugin install snappy
    }
CELERY_TASK_IGNORE_RESULT = True  # task state lives in our own database rows
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Outbound HTTP (provider upstreams, plugin downloads) only to these networks; empty = anywhere (langbot_site/egress.py).
EGRESS_ALLOWED_NETWORKS = os.environ.get("EGRESS_ALLOWED_NETWORKS", "").strip()

# Plugins: where packages are unpacked and the marketplace to install from (empty = marketplace disabled).
PLUGIN_MARKETPLACE_URL = os.environ.get("MARKETPLACE_URL", "").strip()
