"""Figures computed again only when the data changed (the home page at company scale).

The home page's figures are as-of rules over every bill — at a company's 12 M bills, seconds
each — and between two saves they cannot change. `app.storage.db.data_version` names the data's version
of a DuckDB file (its opens in this process and the committed changes of rows since), so a
sign-in or a page view, which write no register rows, keep the figures. A PostgreSQL database
can be written by other servers, and `:memory:` has nothing to name it by: those are never cached.
Callers key each figure by everything it depends on besides the data (day, scope, role).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pandas as pd

from app.storage.db import Database, data_version

SIZE = 64  # figures kept; a home page needs about ten per scope and month
_lock = threading.Lock()
_kept: OrderedDict[tuple, Any] = OrderedDict()


def cached(db: Database, key: tuple, compute: Callable[[], Any]) -> Any:
    """compute(), or what it gave for the same key at the same version of the data.

    The version is read before computing: a save committed meanwhile leaves the figure under the
    older version, which is never asked for again. Frames are handed out as copies.
    """
    seen = data_version(db)
    if seen is None:
        return compute()
    full = (seen, key)
    with _lock:
        if full in _kept:
            _kept.move_to_end(full)
            return _copy(_kept[full])
    value = compute()
    with _lock:
        _kept[full] = value
        while len(_kept) > SIZE:
            _kept.popitem(last=False)
    return _copy(value)


def clear() -> None:
    with _lock:
        _kept.clear()


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, pd.DataFrame) else value
