"""分包方档案: one vendor on one page — its ratings, contracts and projects (those of the actor's
小区), with each project's checks and whether it is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from app import registers
from app.access.permissions import Actor
from app.reading.queries import community_filter_sql
from app.storage.db import Database

RATING_HEADERS = {"rated_on": "评价日期", "rating": "评价等级", "score": "得分", "basis": "评价依据",
                  "rater": "评价人"}
CONTRACT_HEADERS = {"contract_no": "合同编号", "community": "小区", "title": "合同名称", "kind": "类别",
                    "start_on": "开始日期", "end_on": "结束日期", "amount": "合同金额(元)", "status": "状态"}
PROJECT_HEADERS = {"community": "小区", "name": "工程名称", "contract_no": "合同", "budget": "预算(元)",
                   "started_on": "开工日期", "planned_end_on": "计划完工", "progress": "进度(%)",
                   "accepted_on": "验收日期", "checks": "检查/验收次数", "failed": "不合格次数", "state": "状态"}


@dataclass
class VendorFile:
    vendor: dict
    due_on: date | None  # when the next rating is due (vendor.rating_months after the last)
    ratings: pd.DataFrame
    contracts: pd.DataFrame
    projects: pd.DataFrame


def vendors(db: Database) -> dict[int, str]:
    return dict(db.rows("SELECT id, name FROM vendors WHERE deleted_at IS NULL ORDER BY name"))


def vendor_file(db: Database, actor: Actor, vendor_id: int, as_of: date | None = None) -> VendorFile:
    """Everything about one vendor; contracts and projects limited to the actor's 小区."""
    as_of = as_of or db.now().date()
    cur = db.cursor().execute("SELECT * FROM vendors WHERE id = ? AND deleted_at IS NULL", [vendor_id])
    found = cur.fetchone()
    if found is None:
        raise KeyError(f"分包方编号 {vendor_id} 不存在")
    vendor = dict(zip([d[0] for d in cur.description], found))
    # the rule view's own answer: due_on is set only when the vendor is already due
    due = db.scalar("SELECT due_on FROM vendor_rating_due_as_of(CAST(? AS DATE)) WHERE vendor_id = ?",
                    [as_of, vendor_id])
    if due is None and vendor.get("evaluated_on"):
        months = db.scalar("SELECT coalesce(setting_int('vendor.rating_months', NULL), 12)")
        due = db.scalar("SELECT CAST(CAST(? AS DATE) + to_months(CAST(? AS INTEGER)) AS DATE)",
                        [vendor["evaluated_on"], months])
    ratings = db.query(
        "SELECT r.rated_on, r.rating, r.score, r.basis, s.name AS rater FROM vendor_ratings r "
        "LEFT JOIN staff s ON s.id = r.rater_id WHERE r.vendor_id = ? AND r.deleted_at IS NULL "
        "ORDER BY r.rated_on DESC, r.id DESC", [vendor_id])
    where, params = community_filter_sql(registers.get("contracts"), "c", actor)
    contracts = db.query(
        "SELECT c.contract_no, m.name AS community, c.title, c.kind, c.start_on, c.end_on, c.amount, c.status "
        "FROM contracts c LEFT JOIN communities m ON m.id = c.community_id "
        "WHERE c.deleted_at IS NULL AND c.vendor_id = ?" + where + " ORDER BY c.start_on DESC, c.id",
        [vendor_id, *params])
    where, params = community_filter_sql(registers.get("projects"), "p", actor)
    projects = db.query(
        "SELECT m.name AS community, p.name, c.contract_no, p.budget, p.started_on, p.planned_end_on, p.progress, "
        "p.accepted_on, "
        "(SELECT count(*) FROM project_checks k WHERE k.project_id = p.id AND k.deleted_at IS NULL) AS checks, "
        "(SELECT count(*) FROM project_checks k WHERE k.project_id = p.id AND k.deleted_at IS NULL "
        " AND k.result = '不合格') AS failed, "
        "CASE WHEN p.accepted_on IS NOT NULL AND p.accepted_on <= ? THEN '已验收' "
        "     WHEN p.planned_end_on < ? THEN '逾期未验收' ELSE '进行中' END AS state "
        "FROM projects p LEFT JOIN communities m ON m.id = p.community_id "
        "LEFT JOIN contracts c ON c.id = p.contract_id "
        "WHERE p.deleted_at IS NULL AND p.vendor_id = ?" + where + " ORDER BY p.started_on DESC, p.id",
        [as_of, as_of, vendor_id, *params])
    return VendorFile(vendor, due, ratings, contracts, projects)
