-- v_community_overview: 小区概况
-- rule: one row per community: buildings, households by status, occupancy rate
--       (households 已入住 or 出租 / all households), total building area, owners on file.
-- source: 二 小区基本概况; 三(一) 入住管理
-- parameters: none
-- 规则：每个小区一行：楼栋数、按状态分的房屋数、入住率（已入住和出租的房屋 ÷ 全部房屋）、总建筑面积和登记的业主数。
-- 参数：无
-- label community_id: 小区编号
-- label community: 小区
-- label buildings: 楼栋数
-- label households: 户数
-- label occupied: 入住户数
-- label vacant: 空置户数
-- label decorating: 装修中户数
-- label rented: 出租户数
-- label occupancy_rate: 入住率
-- label total_area: 房屋建筑面积(㎡)
-- label owners: 在册业主数
CREATE OR REPLACE VIEW v_community_overview AS
WITH h AS (
    SELECT community_id,
           count(*) AS households,
           count(*) FILTER (WHERE status = '已入住') AS occupied,
           count(*) FILTER (WHERE status = '空置') AS vacant,
           count(*) FILTER (WHERE status = '装修中') AS decorating,
           count(*) FILTER (WHERE status = '出租') AS rented,
           sum(area) AS total_area
    FROM households
    WHERE deleted_at IS NULL
    GROUP BY community_id
),
b AS (
    SELECT community_id, count(*) AS buildings
    FROM buildings WHERE deleted_at IS NULL GROUP BY community_id
),
o AS (
    SELECT hh.community_id, count(*) AS owners
    FROM owners ow JOIN households hh ON hh.id = ow.household_id
    WHERE ow.deleted_at IS NULL AND hh.deleted_at IS NULL AND ow.role = '业主'
      AND ow.moved_out_on IS NULL
    GROUP BY hh.community_id
)
SELECT c.id AS community_id,
       c.name AS community,
       coalesce(b.buildings, 0) AS buildings,
       coalesce(h.households, 0) AS households,
       coalesce(h.occupied, 0) AS occupied,
       coalesce(h.vacant, 0) AS vacant,
       coalesce(h.decorating, 0) AS decorating,
       coalesce(h.rented, 0) AS rented,
       CAST(h.occupied + h.rented AS DOUBLE) / nullif(h.households, 0) AS occupancy_rate,
       coalesce(h.total_area, 0) AS total_area,
       coalesce(o.owners, 0) AS owners
FROM communities c
LEFT JOIN h ON h.community_id = c.id
LEFT JOIN b ON b.community_id = c.id
LEFT JOIN o ON o.community_id = c.id
WHERE c.deleted_at IS NULL;
