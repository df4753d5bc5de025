"""Which 小区 an actor sees: the one place that answers it, as rows and as SQL.

An actor limited to some communities (`Actor.communities`) reads only their rows; every read
path builds its filter here, so a change to what a 客服 may see is made once. Three limits on a
register's rows: the actor's communities (directly or through the parent row, owners ->
households); private rows of registers with an owner (only their owner sees them);
attachments, which take the visibility of the row they belong to.
"""

from __future__ import annotations

from app import registers
from app.access.permissions import Actor, can
from app.registers.model import Register
from app.storage.db import Database, in_list, q

ATTACHMENTS = "attachments"


def visible_ids(actor: Actor, community_id: int | None = None) -> set[int] | None:
    """The community ids the actor sees (None: every one), narrowed to `community_id` when given."""
    ids = None if actor.communities is None else set(actor.communities)
    if community_id is not None:
        ids = {community_id} if ids is None else ids & {community_id}
    return ids


def sees(actor: Actor, community_id: int | None) -> bool:
    """Whether the actor works in this community."""
    return actor.communities is None or community_id in actor.communities


def community_sql(actor: Actor, community_id: int | None = None,
                  column: str = "community_id") -> tuple[str, list]:
    """` AND column IN (…)` for the actor's communities and the chosen one (empty when unlimited).

    `column` is a column reference written by the caller, never user input.
    """
    ids = visible_ids(actor, community_id)
    if ids is None:
        return "", []
    placeholders, params = in_list(sorted(ids))
    return " AND " + column + " IN " + placeholders, params


def communities(db: Database, actor: Actor) -> dict[int, str]:
    """id -> name of the live communities the actor works in, in id order (a page's picker)."""
    where, params = community_sql(actor, None, "id")
    return dict(db.rows("SELECT id, name FROM communities WHERE deleted_at IS NULL" + where + " ORDER BY id",
                        params))


def owner_columns(reg: Register) -> tuple[str, str] | None:
    """(owner column, shared column) of a register whose rows belong to a user and are private
    unless shared (`owner_field`/`shared_field` in its definition, e.g. saved queries)."""
    owner, shared = reg.extra.get("owner_field"), reg.extra.get("shared_field")
    return (owner, shared) if owner and shared else None


def community_filter_sql(reg: Register, alias: str, actor: Actor) -> tuple[str, list]:
    """A WHERE fragment limiting a register's rows (as `alias`) to those the actor may see
    (empty when unlimited): the three limits of this module's docstring."""
    where, params = _community_only(reg, alias, actor)
    owned = owner_columns(reg)
    if owned:
        where += " AND (" + alias + "." + q(owned[1]) + " OR " + alias + "." + q(owned[0]) + " = ?)"
        params = [*params, actor.user]
    if reg.name == ATTACHMENTS:
        sub, sub_params = _attachment_parents_sql(alias, actor)
        where += sub
        params = [*params, *sub_params]
    return where, params


def row_filter_sql(reg: Register, alias: str, actor: Actor) -> tuple[str, list]:
    """`community_filter_sql`, and the communities register itself limited to the actor's own
    (it names no community column; the SQL console and the audit trail show only theirs)."""
    if reg.name == "communities":
        return community_sql(actor, None, alias + ".id")
    return community_filter_sql(reg, alias, actor)


def _community_only(reg: Register, alias: str, actor: Actor) -> tuple[str, list]:
    if actor.communities is None or reg.community is None:
        return "", []
    col = reg.community
    f = reg.field(col)
    if f.type == "ref" and f.ref != "communities":
        parent = registers.get(f.ref)
        sub, params = _community_only(parent, "p", actor)
        return (
            " AND " + alias + "." + q(col) + " IN (SELECT p.id FROM " + q(parent.name) + " p WHERE TRUE" + sub + ")",
            params,
        )
    placeholders, params = in_list(list(actor.communities))
    return " AND " + alias + "." + q(col) + " IN " + placeholders, params


def _attachment_parents_sql(alias: str, actor: Actor) -> tuple[str, list]:
    """Attachments whose row the actor sees: free registers by name, limited ones row by row."""
    free: list[str] = []
    limited: list[str] = []
    params: list = []
    for parent in registers.catalog().values():
        if parent.name == ATTACHMENTS or not can(actor, parent.name, "view"):
            continue
        sub, sub_params = community_filter_sql(parent, "ap", actor)
        if not sub:
            free.append(parent.name)
            continue
        limited.append("(" + alias + "." + q("register") + " = ? AND " + alias + "." + q("row_id")
                       + " IN (SELECT ap.id FROM "
                       + q(parent.name) + " ap WHERE TRUE" + sub + "))")
        params += [parent.name, *sub_params]
    parts = []
    free_params: list = []
    if free:
        placeholders, free_params = in_list(free)
        parts.append(alias + "." + q("register") + " IN " + placeholders)
    return " AND (" + " OR ".join([*parts, *limited] or ["FALSE"]) + ")", [*free_params, *params]
