"""Laptop defaults: SQLite and the server-less broker in DATA_DIR unless DATABASE_URL / REDIS_URL say otherwise."""

from .base import *  # noqa: F401,F403
