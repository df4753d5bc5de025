"""The actor behind every service call, and the one permission function.

Every service (the save path, exports, imports, the SQL console, the audit viewer) asks
`can`/`require` with the actor it was given. A signed-in user's actor carries the grants
of their role, read from the `role_permissions` matrix in the database (`app.accounts.auth`); an
actor built in code (the CLI, jobs, tests) carries none and gets its role's defaults below.
Scope is `Actor.communities`: the community filters of queries, exports and the console,
and the save path's scope check, all read it.
"""

from __future__ import annotations

import getpass
import json
import uuid
from dataclasses import dataclass, replace
from functools import lru_cache

from app import registers
from app.storage.audit_log import write_audit
from app.storage.db import Database

ACTIONS = ("view", "add", "edit", "delete", "export", "import")
WRITE_ACTIONS = ("add", "edit", "delete", "import")
ACTION_LABELS = {
    "view": "查看",
    "add": "新增",
    "edit": "修改",
    "delete": "删除",
    "export": "导出",
    "import": "导入",
}

ADMIN = "管理员"
READ_ONLY_ROLE = "业委会"


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    personal_data: bool  # sees phones and ID numbers in full
    read_only: bool = False
    writes: tuple[str, ...] = ()  # areas whose registers it may add to, edit and import into
    deletes: tuple[str, ...] = ()  # areas whose rows it may delete
    exports: bool = True


ALL_AREAS = ("*",)
# Default rights of each role (the matrix in the database starts from these; an administrator
# edits it on the 权限设置 page). Every role sees every register of its communities, masked.
ROLES: dict[str, Role] = {r.name: r for r in (
    Role(ADMIN, "系统管理员：全部台账，用户、权限与规则参数", True, writes=ALL_AREAS, deletes=ALL_AREAS),
    Role("经理", "项目经理：全部业务台账", True, writes=ALL_AREAS, deletes=ALL_AREAS),
    Role("客服", "客服：房屋与业主、报修投诉、装修停车、通告档案、调查", True,
         writes=("小区与房屋", "维修与投诉", "装修与停车", "档案与公文", "调查与文化"),
         deletes=("维修与投诉",)),
    Role("财务", "财务：收费、收支、押金、预算；合同与采购登记", False,
         writes=("收费管理", "合同与工程", "采购与库存"), deletes=("收费管理",)),
    Role("维修", "维修：报修单、设备与消防、检查整改、领料", False,
         writes=("维修与投诉", "设备与消防", "检查与整改", "采购与库存")),
    Role("保安", "保安：消防巡查、装修与停车、检查整改", False,
         writes=("设备与消防", "装修与停车", "检查与整改")),
    Role(READ_ONLY_ROLE, "业主委员会（只读）：查看台账和规则视图，个人信息打码，不能导出台账", False,
         read_only=True, exports=False),
)}

# Matrix rows that are not registers: rule views and the SQL console (its exports).
RULE_VIEWS = "rule_views"
SQL_CONSOLE = "sql_console"
PSEUDO_REGISTERS = {RULE_VIEWS: "规则视图", SQL_CONSOLE: "查询控制台"}
# Registers every working role keeps for itself (its own saved queries, attached files).
SHARED = {"saved_queries", "attachments"}
# Changed by administrators only, whatever the matrix says (issue 10: settings and rule parameters).
ADMIN_ONLY_WRITES = {"settings"}


@dataclass(frozen=True)
class Actor:
    user: str
    role: str = ADMIN
    communities: tuple[int, ...] | None = None  # None: every community
    source: str = "网格"
    grants: frozenset[tuple[str, str]] | None = None  # (register, action); None: the role's defaults
    personal_data: bool | None = None  # None: the role's default

    def via(self, source: str) -> Actor:
        return replace(self, source=source)


class PermissionDenied(PermissionError):
    pass


def cli_actor() -> Actor:
    """The CLI runs as a system actor with administrator rights, recorded under the OS login name.

    Whoever can run `wuye` on the server can read the database file anyway.
    """
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "cli"
    return Actor(user=user, role=ADMIN, source="命令行")


def matrix_registers() -> dict[str, str]:
    """Every row of the matrix: register name -> label (registers in area order, then the others)."""
    rows = {r.name: f"{area} / {r.label}" for area, regs in registers.by_area().items() for r in regs}
    return rows | {name: f"其他 / {label}" for name, label in PSEUDO_REGISTERS.items()}


def _area_of(register: str) -> str | None:
    reg = registers.catalog().get(register)
    return reg.area if reg else None


def default_allowed(role: str, register: str, action: str) -> bool:
    """The shipped default of one matrix cell."""
    spec = ROLES.get(role)
    if spec is None:
        return False
    if action == "view":
        return True
    if action == "export":
        return spec.exports or register == RULE_VIEWS
    if spec.read_only or register in PSEUDO_REGISTERS:
        return False
    if register in ADMIN_ONLY_WRITES:
        return role == ADMIN
    if register in SHARED:
        return True
    area = _area_of(register)
    areas = spec.deletes if action == "delete" else spec.writes
    return areas == ALL_AREAS or area in areas


@lru_cache(maxsize=64)
def default_grants(role: str) -> frozenset[tuple[str, str]]:
    return frozenset((reg, action) for reg in matrix_registers() for action in ACTIONS
                     if default_allowed(role, reg, action))


registers.on_change(default_grants.cache_clear)  # the defaults follow the office's own registers


def matrix_row(name: str) -> str:
    """The matrix row deciding about `name`: a register, or the row of every rule view."""
    if name in registers.catalog() or name in PSEUDO_REGISTERS:
        return name
    if name.startswith("v_"):
        return RULE_VIEWS
    return name


def can(actor: Actor, register: str, action: str) -> bool:
    """May this actor do this action on this register (or rule view)? The only place that decides."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action}")
    if action != "view" and action != "export" and register in ADMIN_ONLY_WRITES:
        return actor.role == ADMIN
    spec = ROLES.get(actor.role)
    if spec is not None and spec.read_only and action in WRITE_ACTIONS:
        return False
    grants = actor.grants if actor.grants is not None else default_grants(actor.role)
    return (matrix_row(register), action) in grants


def require(actor: Actor, register: str, action: str, label: str | None = None) -> None:
    if not can(actor, register, action):
        raise PermissionDenied(
            f"{actor.user}（{actor.role}）无权{ACTION_LABELS[action]}「{label or register}」"
        )


def require_admin(actor: Actor, what: str) -> None:
    if actor.role != ADMIN:
        raise PermissionDenied(f"{actor.user}（{actor.role}）无权{what}：只有管理员可以")


def sees_personal_data(actor: Actor) -> bool:
    """Whether ID numbers and phones are shown in full (PIPL: mask by default)."""
    if actor.personal_data is not None:
        return actor.personal_data
    spec = ROLES.get(actor.role)
    return bool(spec and spec.personal_data)


def mask_value(kind: str, value: str | None) -> str | None:
    """110***********1234 and 138****5678 (REGULATIONS.md, 个人信息保护法)."""
    if value is None or value == "":
        return value
    s = str(value)
    if kind == "phone" and len(s) >= 7:
        return s[:3] + "*" * (len(s) - 7) + s[-4:]
    if len(s) >= 8:
        return s[:3] + "*" * (len(s) - 7) + s[-4:]
    return "*" * len(s)


# -- the matrix in the database ------------------------------------------------------------
def role_names() -> list[str]:
    return list(ROLES)


def stored_matrix(db: Database, role: str) -> dict[tuple[str, str], bool]:
    return {(reg, action): bool(allowed) for reg, action, allowed in db.rows(
        "SELECT register, action, allowed FROM role_permissions WHERE role = ?", [role])}


def role_grants(db: Database, role: str) -> frozenset[tuple[str, str]]:
    """The cells allowed to a role: the stored matrix, defaults where a cell is not stored yet."""
    stored = stored_matrix(db, role)
    return frozenset((reg, action) for reg in matrix_registers() for action in ACTIONS
                     if stored.get((reg, action), default_allowed(role, reg, action)))


def role_personal_data(db: Database, role: str) -> bool:
    found = db.scalar("SELECT personal_data FROM roles WHERE name = ?", [role])
    if found is None:
        spec = ROLES.get(role)
        return bool(spec and spec.personal_data)
    return bool(found)


def actor_for_role(db: Database, user: str, role: str, communities: tuple[int, ...] | None = None,
                   source: str = "网格") -> Actor:
    """The actor of a signed-in user: the role's grants and personal-data right from the database."""
    return Actor(user, role, communities, source, role_grants(db, role), role_personal_data(db, role))


def ensure_matrix(db: Database) -> int:
    """Store the roles and every matrix cell not stored yet, with its default; cells added."""
    have = {(r, g, a) for r, g, a in db.rows("SELECT role, register, action FROM role_permissions")}
    roles = {r[0] for r in db.rows("SELECT name FROM roles")}
    missing = [(role, reg, action, default_allowed(role, reg, action))
               for role in ROLES for reg in matrix_registers() for action in ACTIONS
               if (role, reg, action) not in have]
    new_roles = [(i, r) for i, r in enumerate(ROLES.values()) if r.name not in roles]
    if not missing and not new_roles:
        return 0
    with db.transaction() as cur:
        for position, r in new_roles:
            cur.execute("INSERT INTO roles (name, description, personal_data, read_only, position) "
                        "VALUES (?, ?, ?, ?, ?)", [r.name, r.description, r.personal_data, r.read_only, position])
        if missing:  # one statement from an Arrow table: row by row is slow on attached PostgreSQL
            import pyarrow as pa

            cur.register("incoming_cells", pa.table({
                "role": [m[0] for m in missing], "register": [m[1] for m in missing],
                "action": [m[2] for m in missing], "allowed": pa.array([m[3] for m in missing], pa.bool_()),
            }))
            try:
                cur.execute("INSERT INTO role_permissions (role, register, action, allowed) "
                            "SELECT role, register, action, allowed FROM incoming_cells")
            finally:
                cur.unregister("incoming_cells")
    return len(missing)


def save_role_rights(db: Database, actor: Actor, role: str, cells: dict[tuple[str, str], bool],
                     personal_data: bool | None = None) -> int:
    """An administrator changes a role's matrix cells (and its personal-data right); audited. Cells changed."""
    require_admin(actor, "修改权限")
    if role not in ROLES:
        raise KeyError(f"没有名为 {role} 的角色")
    rows = matrix_registers()
    for reg, action in cells:
        if reg not in rows or action not in ACTIONS:
            raise ValueError(f"unknown matrix cell {reg}/{action}")
    ensure_matrix(db)
    before = stored_matrix(db, role)
    changed = {k: v for k, v in cells.items() if before.get(k) != v}
    old_personal = role_personal_data(db, role)
    personal_changed = personal_data is not None and personal_data != old_personal
    if not changed and not personal_changed:
        return 0
    with db.transaction() as cur:
        for (reg, action), allowed in changed.items():
            cur.execute("UPDATE role_permissions SET allowed = ? WHERE role = ? AND register = ? AND action = ?",
                        [allowed, role, reg, action])
        if personal_changed:
            cur.execute("UPDATE roles SET personal_data = ? WHERE name = ?", [personal_data, role])
        old = {f"{reg}.{action}": before.get((reg, action)) for reg, action in changed}
        new = {f"{reg}.{action}": allowed for (reg, action), allowed in changed.items()}
        if personal_changed:
            old["personal_data"], new["personal_data"] = old_personal, personal_data
        write_audit(db, cur, actor, "role_permissions", uuid.uuid4().hex,
                    [(None, "修改", json.dumps(old, ensure_ascii=False, sort_keys=True),
                      json.dumps(new, ensure_ascii=False, sort_keys=True))],
                    note=f"角色 {role}")
    return len(changed) + int(personal_changed)


def mask_sql(kind: str, expr: str) -> str:
    """SQL doing what mask_value does: 138****5678, 110***********1234."""
    s = "CAST(" + expr + " AS VARCHAR)"
    shortest = 7 if kind == "phone" else 8
    return (
        f"CASE WHEN {s} IS NULL OR {s} = '' THEN {s} "
        f"WHEN length({s}) >= {shortest} THEN left({s}, 3) || repeat('*', length({s}) - 7) || right({s}, 4) "
        f"ELSE repeat('*', length({s})) END"
    )
