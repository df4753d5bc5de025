-- v_todo_estate: 装修、停车、空房与应急待办
-- rule: what is due or overdue in decoration, parking, vacant units and emergencies, in v_todo's
--       columns (to be unioned into it):
--       decoration violations not rectified whose deadline (else the check date) <= as_of (高 past
--       the deadline, else 中) — unless a rectification was opened for it (then v_rectification_overdue
--       lists it, once); decoration works past planned_end_on and not accepted (中);
--       accepted decorations whose deposit is still held (低, v_decoration_deposit);
--       parking leases within their warning window (低) or past their end (中,
--       v_parking_lease_expiring); vacant units due for a check (中 when overdue, 低 due today,
--       v_vacant_check_due); communities due for a fire drill (高 when overdue, 中 due today,
--       v_drill_due); emergency plans in force with review_due_on <= as_of (中); incidents not
--       resolved (高); vacant-unit keys lent before as_of and not returned (中); decoration worker
--       passes past valid_until and not handed back (高 while the works are 施工中: someone may be
--       entering on an expired pass; else 中).
--       due_on: the date behind the row's state; days_overdue = as_of − due_on.
--       Point in time: todo_estate_as_of(as_of DATE); this view is it at current_date.
-- source: 三(一) 入住管理; 三(九) 消防; 三(十) 装修管理; 三(十一) 停车场管理; 应急管理阶段
-- parameters: those of v_decoration_deposit, v_parking_lease_expiring, v_vacant_check_due, v_drill_due
-- 规则：装修、停车、空房与应急方面的待办：到期未整改的装修违规、超期未验收的装修、验收后未退的保证金；即将到期或已到期的车位租约；到期的空房检查；到期的消防演练、应急预案和未结的突发事件。
-- 参数：同「装修保证金」「车位租期到期」「空房检查到期」「消防演练到期」
-- label community_id: 小区编号
-- label area: 业务范围
-- label item: 事项
-- label ref_table: 台账
-- label ref_id: 行编号
-- label due_on: 到期日
-- label days_overdue: 逾期天数
-- label severity: 紧急程度
CREATE OR REPLACE MACRO todo_estate_as_of(as_of) AS TABLE
WITH items AS (
    SELECT h.community_id,
           '装修与停车' AS area,
           '装修违规未整改：' || h.code || ' ' || c.violation
               || CASE WHEN c.penalty > 0 THEN '（罚款 ' || CAST(c.penalty AS VARCHAR) || ' 元）' ELSE '' END AS what,
           'decoration_checks' AS ref_table,
           c.id AS ref_id,
           coalesce(c.deadline, c.checked_on) AS due_on,
           CASE WHEN c.deadline < CAST(as_of AS DATE) THEN '高' ELSE '中' END AS severity
    FROM decoration_checks c
    JOIN decorations d ON d.id = c.decoration_id AND d.deleted_at IS NULL
    JOIN households h ON h.id = d.household_id
    WHERE c.deleted_at IS NULL AND c.violation IS NOT NULL
      AND (c.rectified_on IS NULL OR c.rectified_on > CAST(as_of AS DATE))
      AND coalesce(c.deadline, c.checked_on) <= CAST(as_of AS DATE)
      AND NOT EXISTS (SELECT 1 FROM rectifications r
                      WHERE r.source_table = 'decoration_checks' AND r.source_id = c.id AND r.deleted_at IS NULL)

    UNION ALL
    SELECT community_id, '装修与停车',
           '装修超期未完工：' || household_code || '（申请人 ' || applicant || '，' || status || '）',
           'decorations', decoration_id, planned_end_on, '中'
    FROM decoration_deposit_as_of(CAST(as_of AS DATE))
    WHERE works_overdue

    UNION ALL
    SELECT community_id, '装修与停车',
           '装修已验收，保证金待退还：' || household_code || ' 可退 ' || CAST(refundable AS VARCHAR) || ' 元',
           'decorations', decoration_id, accepted_on, '低'
    FROM decoration_deposit_as_of(CAST(as_of AS DATE))
    WHERE accepted_on IS NOT NULL AND refunded_on IS NULL AND received > 0 AND open_violations = 0

    UNION ALL
    SELECT community_id, '装修与停车',
           '车位 ' || space_no || '（' || coalesce(household_code, '') || ' ' || coalesce(plate, '') || '）租期'
               || CASE WHEN days_left < 0 THEN '已到期未续租' ELSE '即将到期' END,
           'parking_spaces', parking_space_id, lease_end_on,
           CASE WHEN days_left < 0 THEN '中' ELSE '低' END
    FROM parking_lease_expiring_as_of(CAST(as_of AS DATE))

    UNION ALL
    SELECT community_id, '小区与房屋',
           '空置房 ' || code || ' 到期检查'
               || CASE WHEN last_checked_on IS NULL THEN '（从未检查）'
                       ELSE '（上次 ' || strftime(last_checked_on, '%Y-%m-%d') || '）' END,
           'households', household_id, coalesce(next_due, CAST(as_of AS DATE)),
           CASE WHEN coalesce(next_due < CAST(as_of AS DATE), true) THEN '中' ELSE '低' END
    FROM vacant_check_due_as_of(CAST(as_of AS DATE))
    WHERE due

    UNION ALL
    SELECT d.community_id, '设备与消防',
           d.community || ' 消防演练到期'
               || CASE WHEN d.last_held_on IS NULL THEN '（尚无演练记录）'
                       ELSE '（上次 ' || strftime(d.last_held_on, '%Y-%m-%d') || '）' END,
           'drills',
           (SELECT max(x.id) FROM drills x WHERE x.community_id = d.community_id AND x.kind = '消防'
              AND x.held_on = d.last_held_on AND x.deleted_at IS NULL),
           coalesce(d.next_due, CAST(as_of AS DATE)),
           CASE WHEN d.overdue THEN '高' ELSE '中' END
    FROM drill_due_as_of(CAST(as_of AS DATE)) d
    WHERE d.due

    UNION ALL
    SELECT community_id, '设备与消防',
           '应急预案《' || title || '》到期复审', 'emergency_plans', id, review_due_on, '中'
    FROM emergency_plans
    WHERE deleted_at IS NULL AND status = '有效' AND review_due_on <= CAST(as_of AS DATE)

    UNION ALL
    SELECT community_id, '设备与消防',
           '突发事件未处置完毕：' || kind || coalesce('（' || location || '）', '')
               || CASE WHEN owners_notified_at IS NULL THEN '，尚未通知业主' ELSE '' END,
           'incidents', id, CAST(occurred_at AS DATE), '高'
    FROM incidents
    WHERE deleted_at IS NULL AND CAST(occurred_at AS DATE) <= CAST(as_of AS DATE)
      AND (resolved_at IS NULL OR CAST(resolved_at AS DATE) > CAST(as_of AS DATE))

    UNION ALL
    SELECT h.community_id, '小区与房屋',
           '空房钥匙 ' || h.code || coalesce(' ' || k.key_no, '') || ' 借用人 ' || k.holder || ' 未归还',
           'keys', k.id, CAST(k.borrowed_at AS DATE), '中'
    FROM keys k
    JOIN households h ON h.id = k.household_id
    WHERE k.deleted_at IS NULL AND CAST(k.borrowed_at AS DATE) < CAST(as_of AS DATE)
      AND (k.returned_at IS NULL OR CAST(k.returned_at AS DATE) > CAST(as_of AS DATE))

    UNION ALL
    SELECT h.community_id, '装修与停车',
           '装修出入证过期未交回：' || h.code || ' ' || w.name || coalesce('（' || w.pass_no || '）', ''),
           'decoration_workers', w.id, w.valid_until,
           CASE WHEN d.status = '施工中' THEN '高' ELSE '中' END
    FROM decoration_workers w
    JOIN decorations d ON d.id = w.decoration_id AND d.deleted_at IS NULL
    JOIN households h ON h.id = d.household_id
    WHERE w.deleted_at IS NULL AND w.valid_until < CAST(as_of AS DATE)
      AND (w.returned_on IS NULL OR w.returned_on > CAST(as_of AS DATE))
)
SELECT unnest(todo_row(as_of, items)) FROM items;

CREATE OR REPLACE VIEW v_todo_estate AS
SELECT * FROM todo_estate_as_of(current_date);
