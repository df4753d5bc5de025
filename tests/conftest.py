"""Shared fixtures: a real DuckDB file per test, migrated, with the default settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.db import Database, open_database
from app.permissions import Actor

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def db(tmp_path) -> Database:
    from app.settings import ensure_defaults

    database = open_database(str(tmp_path / "wuye.duckdb"))
    ensure_defaults(database, Actor("测试", source="任务"))
    yield database
    database.close()


@pytest.fixture
def actor() -> Actor:
    return Actor(user="王会计", role="管理员")
