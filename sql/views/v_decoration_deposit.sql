-- v_decoration_deposit: 装修保证金
-- rule: one row per decoration applied on or before as_of. received = Σ 装修保证金 received
--       (received_on <= as_of); penalties = Σ decoration_checks.penalty (checked_on <= as_of);
--       open_violations = checks with a violation, checked_on <= as_of, not rectified by as_of;
--       refunded_on = the latest refund of its deposits (on or before as_of), NULL while any is
--       still held; refundable = greatest(received − penalties, 0) when accepted (accepted_on <=
--       as_of), no open violation and not yet refunded, else 0; works_overdue = planned_end_on <
--       as_of and not accepted by as_of.
--       Point in time: decoration_deposit_as_of(as_of DATE); this view is it at current_date.
-- source: 三(十) 装修管理; 建设部令第110号 (装修管理服务协议, 保证金); practice: refund after final
--       inspection, less penalties
-- parameters: none (amounts are on the decoration, its deposits and its checks)
-- 规则：每个装修申请一行：已收保证金、违规罚款、未整改的违规数；验收合格、没有未整改违规且尚未退还时，可退金额 = 已收 − 罚款（不少于 0）；超过计划完工日仍未验收的为逾期施工。
-- 参数：无（金额在装修申请、保证金和检查记录上填写）
-- label decoration_id: 装修编号
-- label community_id: 小区编号
-- label household_id: 房屋编号
-- label household_code: 房号
-- label applicant: 申请人
-- label status: 状态
-- label planned_end_on: 计划完工日期
-- label accepted_on: 验收日期
-- label deposit_required: 应交保证金(元)
-- label received: 已收保证金(元)
-- label penalties: 罚款合计(元)
-- label open_violations: 未整改违规
-- label refunded_on: 退还日期
-- label refunded: 已退金额(元)
-- label refundable: 可退金额(元)
-- label works_overdue: 超期未完工
CREATE OR REPLACE MACRO decoration_deposit_as_of(as_of) AS TABLE
WITH decos AS (
    SELECT d.*, h.community_id, h.code AS household_code
    FROM decorations d
    JOIN households h ON h.id = d.household_id
    WHERE d.deleted_at IS NULL AND d.applied_on <= as_of
),
money AS (
    SELECT decoration_id,
           sum(amount) AS received,
           count(*) FILTER (WHERE refunded_on IS NULL OR refunded_on > as_of) AS held,
           max(refunded_on) FILTER (WHERE refunded_on <= as_of) AS refunded_on,
           sum(amount - coalesce(deducted, 0)) FILTER (WHERE refunded_on <= as_of) AS refunded
    FROM deposits
    WHERE deleted_at IS NULL AND kind = '装修保证金' AND decoration_id IS NOT NULL AND received_on <= as_of
    GROUP BY decoration_id
),
patrols AS (
    SELECT decoration_id,
           sum(penalty) AS penalties,
           count(*) FILTER (WHERE violation IS NOT NULL
                              AND (rectified_on IS NULL OR rectified_on > as_of)) AS open_violations
    FROM decoration_checks
    WHERE deleted_at IS NULL AND checked_on <= as_of
    GROUP BY decoration_id
),
joined AS (
    SELECT d.id AS decoration_id,
           d.community_id,
           d.household_id,
           d.household_code,
           d.applicant,
           d.status,
           d.planned_end_on,
           CASE WHEN d.accepted_on <= as_of THEN d.accepted_on END AS accepted_on,
           d.deposit_required,
           CAST(coalesce(m.received, 0) AS DECIMAL(12,2)) AS received,
           CAST(coalesce(p.penalties, 0) AS DECIMAL(12,2)) AS penalties,
           CAST(coalesce(p.open_violations, 0) AS BIGINT) AS open_violations,
           CASE WHEN m.held = 0 THEN m.refunded_on END AS refunded_on,
           CAST(coalesce(m.refunded, 0) AS DECIMAL(12,2)) AS refunded,
           coalesce(m.held, 0) AS held
    FROM decos d
    LEFT JOIN money m ON m.decoration_id = d.id
    LEFT JOIN patrols p ON p.decoration_id = d.id
)
SELECT decoration_id,
       community_id,
       household_id,
       household_code,
       applicant,
       status,
       planned_end_on,
       accepted_on,
       deposit_required,
       received,
       penalties,
       open_violations,
       refunded_on,
       refunded,
       CAST(CASE WHEN accepted_on IS NOT NULL AND open_violations = 0 AND held > 0
                 THEN greatest(received - penalties, 0) ELSE 0 END AS DECIMAL(12,2)) AS refundable,
       coalesce(planned_end_on < as_of AND accepted_on IS NULL, false) AS works_overdue
FROM joined;

CREATE OR REPLACE VIEW v_decoration_deposit AS
SELECT * FROM decoration_deposit_as_of(current_date);
