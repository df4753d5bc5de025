-- v_household_timeline: 一户一档时间线
-- rule: every dated event of a household, one row each, newest first when sorted by happened_at:
--       交房 and 入住 (households), owners' and residents' move-in and move-out (owners), bills (on the first day of their
--       period: a bill belongs to its period), receipts (receipts; voided ones say so), waivers,
--       discounts and refunds (bill_adjustments), deposits received and refunded (deposits), repairs
--       reported and their visits (work_orders, work_order_visits), complaints (complaints),
--       survey forms returned (survey_responses) and files attached to the household (attachments).
--       happened_at is a TIMESTAMP (a date is taken at 00:00). These are the registers worded here;
--       一户一档 (app/household_file.py) adds every other register that refers to the household
--       (directly, or through one register that does, e.g. a decoration's checks), found from the
--       register definitions and dated by each one's first date column, and the audit log's changes
--       to the household and its owners. A register that wants its own wording joins with one more
--       UNION ALL block in the macro below (and is named in household_file.WORDED_BY_VIEW).
--       Point in time: household_timeline_as_of(as_of DATE) keeps events up to the end of as_of;
--       this view is it at current_date.
-- source: 三(一) 入住管理（一户一档）; 三(二) 收费管理; 三(六)(七)(十二)
-- parameters: none
-- 规则：一户的所有带日期的事件，每件一行、按时间倒序：交房、入住，业主和住户的迁入迁出，账单（记在账期第一天）、收据（作废的注明）、减免、折扣和退款，押金收退，报修和回访，投诉，问卷和附件。一户一档页面另外列出其他所有引用该房屋的台账（催缴、装修及巡查、空房检查、钥匙、入住手续、车位、车辆、抄表、访客等）和房屋、业主资料的修改记录。
-- 参数：无
-- label household_id: 房屋编号(内部)
-- label community_id: 小区编号
-- label happened_at: 时间
-- label area: 业务范围
-- label what: 事件
-- label ref_table: 台账
-- label ref_id: 行编号
CREATE OR REPLACE MACRO household_timeline_as_of(as_of) AS TABLE
WITH events AS (
    SELECT id AS household_id, CAST(handover_date AS TIMESTAMP) AS happened_at, '小区与房屋' AS area,
           '交房' AS what, 'households' AS ref_table, id AS ref_id
    FROM households WHERE deleted_at IS NULL AND handover_date IS NOT NULL
    UNION ALL
    SELECT id, CAST(move_in_date AS TIMESTAMP), '小区与房屋', '入住', 'households', id
    FROM households WHERE deleted_at IS NULL AND move_in_date IS NOT NULL
    UNION ALL
    SELECT household_id, CAST(move_in_date AS TIMESTAMP), '小区与房屋',
           role || ' ' || name || ' 迁入' || CASE WHEN is_primary THEN '（主联系人）' ELSE '' END,
           'owners', id
    FROM owners WHERE deleted_at IS NULL AND household_id IS NOT NULL AND move_in_date IS NOT NULL
    UNION ALL
    SELECT household_id, CAST(moved_out_on AS TIMESTAMP), '小区与房屋', role || ' ' || name || ' 迁出',
           'owners', id
    FROM owners WHERE deleted_at IS NULL AND household_id IS NOT NULL AND moved_out_on IS NOT NULL
    UNION ALL
    SELECT b.household_id, CAST(CAST(b.period || '-01' AS DATE) AS TIMESTAMP), '收费管理',
           '账单 ' || b.period || ' ' || coalesce(f.name, '') || ' 应收 ' || CAST(b.amount AS VARCHAR) || ' 元'
               || coalesce('，' || strftime(b.due_date, '%Y-%m-%d') || ' 前缴清', ''),
           'bills', b.id
    FROM bills b LEFT JOIN fee_items f ON f.id = b.fee_item_id
    WHERE b.deleted_at IS NULL
    UNION ALL
    SELECT household_id, paid_at, '收费管理',
           '收据 ' || receipt_no || ' 收款 ' || CAST(total AS VARCHAR) || ' 元（' || coalesce(method, '') || '）'
               || CASE WHEN coalesce(voided, false) THEN '，已作废' ELSE '' END,
           'receipts', id
    FROM receipts WHERE deleted_at IS NULL AND household_id IS NOT NULL
    UNION ALL
    SELECT b.household_id, a.adjusted_at, '收费管理',
           '账单 ' || b.period || ' ' || a.kind || ' ' || CAST(a.amount AS VARCHAR) || ' 元'
               || coalesce('（' || a.reason || '）', ''),
           'bill_adjustments', a.id
    FROM bill_adjustments a JOIN bills b ON b.id = a.bill_id
    WHERE a.deleted_at IS NULL AND a.adjusted_at IS NOT NULL
    UNION ALL
    SELECT household_id, CAST(received_on AS TIMESTAMP), '收费管理',
           '收取' || kind || ' ' || CAST(amount AS VARCHAR) || ' 元', 'deposits', id
    FROM deposits WHERE deleted_at IS NULL AND received_on IS NOT NULL
    UNION ALL
    SELECT household_id, CAST(refunded_on AS TIMESTAMP), '收费管理', '退还' || kind, 'deposits', id
    FROM deposits WHERE deleted_at IS NULL AND refunded_on IS NOT NULL
    UNION ALL
    SELECT household_id, reported_at, '维修与投诉',
           '报修 ' || order_no || '（' || coalesce(category, '') || '）' || coalesce(description, '')
               || '，' || coalesce(status, ''),
           'work_orders', id
    FROM work_orders WHERE deleted_at IS NULL AND household_id IS NOT NULL
    UNION ALL
    SELECT w.household_id, v.visited_at, '维修与投诉',
           '报修 ' || w.order_no || ' 回访，满意度 ' || CAST(v.satisfaction AS VARCHAR) || ' 分'
               || coalesce('：' || v.comment, ''),
           'work_order_visits', v.id
    FROM work_order_visits v JOIN work_orders w ON w.id = v.work_order_id
    WHERE v.deleted_at IS NULL AND w.household_id IS NOT NULL
    UNION ALL
    SELECT household_id, received_at, '维修与投诉',
           '投诉 ' || complaint_no || '（' || coalesce(category, '') || '）' || coalesce(description, '')
               || '，' || coalesce(status, ''),
           'complaints', id
    FROM complaints WHERE deleted_at IS NULL AND household_id IS NOT NULL
    UNION ALL
    SELECT r.household_id, coalesce(r.submitted_at, CAST(s.held_from AS TIMESTAMP)), '调查与文化',
           '交回问卷「' || s.title || '」（' || r.form_no || '）', 'survey_responses', r.id
    FROM survey_responses r JOIN surveys s ON s.id = r.survey_id
    WHERE r.deleted_at IS NULL AND r.household_id IS NOT NULL
    UNION ALL
    SELECT row_id, created_at, '小区与房屋', '上传附件 ' || file_name, 'attachments', id
    FROM attachments WHERE deleted_at IS NULL AND register = 'households'
)
SELECT e.household_id,
       h.community_id,
       e.happened_at,
       e.area,
       e.what,
       e.ref_table,
       e.ref_id
FROM events e
JOIN households h ON h.id = e.household_id
WHERE e.happened_at < CAST(as_of AS DATE) + 1;

CREATE OR REPLACE VIEW v_household_timeline AS
SELECT * FROM household_timeline_as_of(current_date);
