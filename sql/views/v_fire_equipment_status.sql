-- v_fire_equipment_status: 消防器材状态
-- rule: one row per fire equipment in use (status 在用).
--       next_check_due = coalesce(last_checked_on, produced_on) + fire.check_days
--       (high_risk_location: fire.check_days_high_risk).
--       Extinguisher types (those with fire.*_years.<type> settings) also get
--       next_service_due = produced_on + fire.service_first_years.<type> years when never serviced,
--       else last_serviced_on + fire.service_every_years.<type> years, and
--       scrap_due = produced_on + fire.scrap_years.<type> years.
--       state: the first that holds of 待报废 (scrap_due <= as_of), 待维修 (next_service_due <= as_of),
--       待检查 (next_check_due <= as_of), else 正常 — a check due today is due.
--       due_on: the date behind the state (for 正常 the earliest coming date); days_left = due_on - as_of.
--       Point in time: fire_equipment_status_as_of(as_of DATE); this view is it at current_date.
-- source: 三(九) 消防制度; GB 50444-2008 §5.2.1–5.2.2 (checks), §5.3 (service), 表5.4.3 (scrap); GA 95
-- parameters: fire.check_days [30], fire.check_days_high_risk [15], fire.service_first_years.<type>,
--             fire.service_every_years.<type>, fire.scrap_years.<type> (REGULATIONS.md)
-- 规则：每件在用消防器材一行：下次检查日 = 上次检查日（没有则生产日期）+ 检查周期（高风险场所用较短周期）；灭火器另计首次维修、定期维修和报废日期。状态依次判断：待报废、待维修、待检查、正常，到期当天即算到期。
-- 参数：灭火器检查周期（默认 30 天）、高风险场所检查周期（默认 15 天）、各类灭火器的首次维修年限、维修间隔年限和报废年限（见法规说明）
-- label fire_equipment_id: 器材编号(内部)
-- label community_id: 小区编号
-- label equip_no: 器材编号
-- label type: 类型
-- label location: 位置
-- label high_risk_location: 高风险场所
-- label quantity: 数量
-- label produced_on: 出厂日期
-- label last_checked_on: 最近检查
-- label last_serviced_on: 最近维修
-- label check_days: 检查周期(天)
-- label next_check_due: 下次检查
-- label next_service_due: 下次维修
-- label scrap_due: 报废日期
-- label state: 状态
-- label due_on: 到期日
-- label days_left: 剩余天数
CREATE OR REPLACE MACRO fire_equipment_status_as_of(as_of) AS TABLE
WITH equipment AS (
    SELECT *
    FROM fire_equipment
    WHERE deleted_at IS NULL AND status = '在用'
),
params AS (
    -- settings resolved once per community and type, not per row
    SELECT k.community_id,
           k.type,
           CAST(setting_int('fire.check_days', k.community_id) AS INTEGER) AS check_days,
           CAST(setting_int('fire.check_days_high_risk', k.community_id) AS INTEGER) AS check_days_high_risk,
           CAST(setting_int('fire.service_first_years.' || k.type, k.community_id) AS INTEGER) AS service_first_years,
           CAST(setting_int('fire.service_every_years.' || k.type, k.community_id) AS INTEGER) AS service_every_years,
           CAST(setting_int('fire.scrap_years.' || k.type, k.community_id) AS INTEGER) AS scrap_years
    FROM (SELECT DISTINCT community_id, type FROM equipment) k
),
dated AS (
    SELECT e.id AS fire_equipment_id,
           e.community_id,
           e.equip_no,
           e.type,
           e.location,
           coalesce(e.high_risk_location, false) AS high_risk_location,
           e.quantity,
           e.produced_on,
           e.last_checked_on,
           e.last_serviced_on,
           CASE WHEN coalesce(e.high_risk_location, false) THEN p.check_days_high_risk
                ELSE p.check_days END AS check_days,
           p.service_first_years,
           p.service_every_years,
           p.scrap_years
    FROM equipment e
    JOIN params p ON p.community_id = e.community_id AND p.type = e.type
),
due AS (
    SELECT *,
           coalesce(last_checked_on, produced_on) + check_days AS next_check_due,
           CAST(CASE WHEN last_serviced_on IS NULL
                     THEN produced_on + to_years(service_first_years)
                     ELSE last_serviced_on + to_years(service_every_years)
                END AS DATE) AS next_service_due,
           CAST(produced_on + to_years(scrap_years) AS DATE) AS scrap_due
    FROM dated
),
judged AS (
    SELECT *,
           CASE WHEN scrap_due <= as_of THEN '待报废'
                WHEN next_service_due <= as_of THEN '待维修'
                WHEN next_check_due <= as_of THEN '待检查'
                ELSE '正常' END AS state
    FROM due
),
stated AS (
    SELECT *,
           CASE state WHEN '待报废' THEN scrap_due
                      WHEN '待维修' THEN next_service_due
                      WHEN '待检查' THEN next_check_due
                      ELSE least(next_check_due, next_service_due, scrap_due) END AS due_on
    FROM judged
)
SELECT fire_equipment_id,
       community_id,
       equip_no,
       type,
       location,
       high_risk_location,
       quantity,
       produced_on,
       last_checked_on,
       last_serviced_on,
       check_days,
       next_check_due,
       next_service_due,
       scrap_due,
       state,
       due_on,
       due_on - as_of AS days_left
FROM stated;

CREATE OR REPLACE VIEW v_fire_equipment_status AS
SELECT * FROM fire_equipment_status_as_of(current_date);
