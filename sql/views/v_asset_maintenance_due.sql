-- v_asset_maintenance_due: 设备维保到期
-- rule: one row per asset in use (status 在用) with a schedule: a maintenance interval or an
--       inspection certificate date. interval_days = maintenance_interval_days, else
--       asset.maintenance_days.<category> (no setting for the category: no interval).
--       last_done_on = latest maintenance_records.done_on on or before as_of;
--       next_due = coalesce(last_done_on, install_date) + interval_days.
--       state: the first that holds of 逾期 (next_due < as_of), 证书到期 (inspection_valid_until <=
--       as_of + asset.certificate_warn_days), 待维保 (next_due <= as_of + asset.warn_days), else 正常.
--       due_on: the date behind the state (for 正常 the earliest coming date); days_left = due_on - as_of.
--       Point in time: asset_maintenance_due_as_of(as_of DATE); this view is it at current_date.
-- source: 二(一)2 设备设施情况; TSG T5002-2017 (elevators every 15 days); CJJ 140-2010 (tanks 180 days)
-- parameters: asset.maintenance_days.<category> (电梯 [15], 二次供水水箱 [180]), asset.warn_days [3],
--             asset.certificate_warn_days [30]
-- 规则：每台在用并有维保周期或检验证书的设备一行：下次维保日 = 上次维保日（没有则安装日）+ 维保周期。状态依次判断：逾期（已过下次维保日）、证书到期（检验证书将在提醒天数内到期）、待维保（将在提醒天数内到期）、正常。
-- 参数：各类设备的维保周期（电梯 15 天、二次供水水箱 180 天）、维保提前提醒天数（默认 3 天）、检验证书提前提醒天数（默认 30 天）
-- label asset_id: 设备编号(内部)
-- label community_id: 小区编号
-- label asset_no: 设备编号
-- label name: 设备名称
-- label category: 类别
-- label location: 位置
-- label vendor_id: 维保单位
-- label interval_days: 维保周期(天)
-- label install_date: 安装日期
-- label last_done_on: 最近维保
-- label next_due: 下次维保
-- label inspection_valid_until: 检验有效期至
-- label state: 状态
-- label due_on: 到期日
-- label days_left: 剩余天数
CREATE OR REPLACE MACRO asset_maintenance_due_as_of(as_of) AS TABLE
WITH in_use AS (
    SELECT *
    FROM assets
    WHERE deleted_at IS NULL AND status = '在用'
),
params AS (
    SELECT k.community_id,
           k.category,
           CAST(setting_int('asset.maintenance_days.' || k.category, k.community_id) AS INTEGER) AS category_days,
           CAST(setting_int('asset.warn_days', k.community_id) AS INTEGER) AS warn_days,
           CAST(setting_int('asset.certificate_warn_days', k.community_id) AS INTEGER) AS certificate_warn_days
    FROM (SELECT DISTINCT community_id, category FROM in_use) k
),
last_done AS (
    SELECT asset_id, max(done_on) AS last_done_on
    FROM maintenance_records
    WHERE deleted_at IS NULL AND done_on <= as_of
    GROUP BY asset_id
),
scheduled AS (
    SELECT a.id AS asset_id,
           a.community_id,
           a.asset_no,
           a.name,
           a.category,
           a.location,
           a.vendor_id,
           coalesce(CAST(a.maintenance_interval_days AS INTEGER), p.category_days) AS interval_days,
           a.install_date,
           d.last_done_on,
           coalesce(d.last_done_on, a.install_date)
               + coalesce(CAST(a.maintenance_interval_days AS INTEGER), p.category_days) AS next_due,
           a.inspection_valid_until,
           p.warn_days,
           p.certificate_warn_days
    FROM in_use a
    JOIN params p ON p.community_id = a.community_id AND p.category = a.category
    LEFT JOIN last_done d ON d.asset_id = a.id
    WHERE coalesce(CAST(a.maintenance_interval_days AS INTEGER), p.category_days) IS NOT NULL
       OR a.inspection_valid_until IS NOT NULL
),
judged AS (
    SELECT *,
           CASE WHEN next_due < as_of THEN '逾期'
                WHEN inspection_valid_until <= as_of + certificate_warn_days THEN '证书到期'
                WHEN next_due <= as_of + warn_days THEN '待维保'
                ELSE '正常' END AS state
    FROM scheduled
),
stated AS (
    SELECT *,
           CASE state WHEN '逾期' THEN next_due
                      WHEN '证书到期' THEN inspection_valid_until
                      WHEN '待维保' THEN next_due
                      ELSE least(next_due, inspection_valid_until) END AS due_on
    FROM judged
)
SELECT asset_id,
       community_id,
       asset_no,
       name,
       category,
       location,
       vendor_id,
       interval_days,
       install_date,
       last_done_on,
       next_due,
       inspection_valid_until,
       state,
       due_on,
       due_on - as_of AS days_left
FROM stated;

CREATE OR REPLACE VIEW v_asset_maintenance_due AS
SELECT * FROM asset_maintenance_due_as_of(current_date);
