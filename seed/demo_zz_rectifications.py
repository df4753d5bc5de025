"""Demo follow-up of the rectifications other demo modules opened: runs after every `demo_*`.

Saving a bad repair visit, a complaint hotspot or a failed fire check opens a rectification
(app/save_rules/checks.py), so the earlier modules leave a year of them open. An office fixes
and verifies them as it goes: those opened more than ten days before the demo's today are
done within their deadline and verified by someone else; the recent ones stay open.
"""

from __future__ import annotations

import random
from datetime import date

from app.access.permissions import Actor
from app.storage.db import Database
from seed.demo_checks import close_rectifications, load_crews

SEED = 20261108


def seed(db: Database, actor: Actor, as_of: date) -> dict[str, int]:
    crews = load_crews(db)
    if not crews:
        return {}
    close_rectifications(db, actor, random.Random(SEED), crews, as_of, leave_unverified=False)
    return {}
