"""Global search: one box that finds households, owners, work orders, complaints, receipts, assets,
contracts, archives and stock items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from app import registers
from app.access.permissions import Actor, can, mask_value, sees_personal_data
from app.reading.queries import community_filter_sql, label_sql
from app.storage.db import Database, q


class SearchHit(NamedTuple):
    register: str
    row_id: int
    label: str
    snippet: str


@dataclass(frozen=True)
class Target:
    register: str
    code: str  # matched exactly first, then as a prefix
    names: tuple[str, ...]  # matched anywhere
    snippet: str  # SQL over alias t giving a short description


# Snippets are SQL expressions over the register's own columns (identifiers only, no values).
TARGETS = (
    Target(
        "households",
        "code",
        (),
        "concat_ws(' ', t.usage, t.status, CAST(t.area AS VARCHAR) || '㎡')",
    ),
    Target("owners", "phone", ("name",), "concat_ws(' ', t.role, t.phone)"),
    # the office's numbers: 报修单号, 投诉编号, 收据号 (by number only: the names on them are personal)
    Target("work_orders", "order_no", (), "concat_ws(' ', t.category, t.urgency, t.status)"),
    Target("complaints", "complaint_no", (), "concat_ws(' ', t.category, t.status)"),
    Target(
        "receipts",
        "receipt_no",
        (),
        "concat_ws(' ', CAST(CAST(t.paid_at AS DATE) AS VARCHAR), CAST(t.total AS VARCHAR) || ' 元', t.method)",
    ),
    Target(
        "assets",
        "asset_no",
        ("name", "model", "location"),
        "concat_ws(' ', t.category, t.location, t.status)",
    ),
    Target(
        "contracts",
        "contract_no",
        ("title", "counterparty"),
        "concat_ws(' ', t.kind, t.counterparty, t.status, CAST(t.end_on AS VARCHAR) || ' 到期')",
    ),
    Target(
        "archives",
        "archive_no",
        ("title",),
        "concat_ws(' ', t.category, t.confidentiality, t.shelf)",
    ),
    Target("stock_items", "code", ("name",), "concat_ws(' ', t.category, t.unit, t.location)"),
)


def global_search(db: Database, actor: Actor, text: str, limit: int = 20) -> list[SearchHit]:
    """Rows whose code or name contains the text, best matches first (exact, prefix, contains)."""
    needle = (text or "").strip().lower()
    if not needle or limit <= 0:
        return []
    parts, params = [], []
    for order, target in enumerate(TARGETS):
        reg = registers.get(target.register)
        if not can(actor, reg.name, "view"):
            continue
        code = "lower(CAST(t." + q(target.code) + " AS VARCHAR))"
        if target.register == "owners" and not sees_personal_data(actor):
            # a masked user may find an owner by the full phone number, never by a fragment
            code_match, code_params = code + " = ?", [needle]
        else:
            code_match, code_params = "contains(" + code + ", ?)", [needle]
        names = [f"lower(t.{q(n)})" for n in target.names]
        rank = (
            f"CASE WHEN {code} = ? THEN 0 WHEN starts_with({code}, ?) THEN 1 "
            + "".join(f"WHEN {n} = ? THEN 1 " for n in names)
            + "ELSE 2 END"
        )
        matches = " OR ".join([code_match, *(f"contains({n}, ?)" for n in names)])
        scope, scope_params = community_filter_sql(reg, "t", actor)
        parts.append(
            f"SELECT CAST(? AS VARCHAR) AS register, t.id AS row_id, {label_sql(reg, 't')} AS label, "
            f"{target.snippet} AS snippet, {rank} AS rank, {order} AS register_order "
            f"FROM {q(reg.name)} t WHERE t.deleted_at IS NULL{scope} AND ({matches})"
        )
        # in the order the placeholders appear: register, rank, scope, matches
        params += [reg.name, needle, needle, *[needle] * len(names), *scope_params, *code_params]
        params += [needle] * len(names)
    if not parts:
        return []
    sql = (
        "SELECT register, row_id, label, snippet FROM (" + " UNION ALL ".join(parts) + ") "
        "ORDER BY rank, register_order, label, row_id LIMIT ?"
    )
    hits = [SearchHit(*row) for row in db.rows(sql, [*params, int(limit)])]
    if sees_personal_data(actor):
        return hits
    return [_masked(hit) for hit in hits]


def search_hits(db: Database, actor: Actor, text: str, limit: int = 12) -> tuple[list[SearchHit], bool]:
    """The first `limit` hits of global_search, and whether there are more than that."""
    hits = global_search(db, actor, text, limit + 1)
    return hits[:limit], len(hits) > limit


def _masked(hit: SearchHit) -> SearchHit:
    """Owners' phones in snippets are masked for users who may not see personal data."""
    if hit.register != "owners" or not hit.snippet:
        return hit
    words = [
        mask_value("phone", w) if w.isdigit() and len(w) == 11 else w
        for w in hit.snippet.split(" ")
    ]
    return hit._replace(snippet=" ".join(words))
