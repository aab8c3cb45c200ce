"""Piccolo engine and app registry. The DSN comes from DATABASE_URL (see settings)."""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(
    config={"dsn": os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")},
    log_queries=False,
)

APP_REGISTRY = AppRegistry(apps=["backend.piccolo_app"])
