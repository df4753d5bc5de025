-- v_population_composition: 居住人口与业主构成
-- rule: one row per community. households by status: occupied (已入住, owner or family living
--       there), rented (出租), vacant (空置), decorating (装修中); people on file (owners register,
--       not moved out) by role: owners (业主), family (家属), tenants (租户); residents = family +
--       tenants + owners of households 已入住 (an owner of a vacant or rented home does not live
--       there); multi_home_owners = owners (by ID number, else name and phone) holding more than one
--       household of the community; residents_per_home = residents / (occupied + rented).
-- source: 二(一)1 管理面积、楼宇概况、居住人口、业主构成
-- parameters: none
-- 规则：每个小区一行：房屋按状态（自住、出租、空置、装修中）计数；在册人员（未迁出）按业主、家属、租户计数；居住人口 = 已入住房屋的业主 + 家属 + 租户；持有多套房屋的业主数（按身份证号，没有则按姓名和电话）；户均居住人口 = 居住人口 ÷（自住 + 出租户数）。
-- 参数：无
-- label community_id: 小区编号
-- label community: 小区
-- label households: 户数
-- label occupied: 自住户数
-- label rented: 出租户数
-- label vacant: 空置户数
-- label decorating: 装修中户数
-- label owners: 业主人数
-- label multi_home_owners: 多套业主
-- label family: 家属人数
-- label tenants: 租户人数
-- label residents: 居住人口
-- label residents_per_home: 户均居住人口
CREATE OR REPLACE VIEW v_population_composition AS
WITH homes AS (
    SELECT community_id,
           count(*) AS households,
           count(*) FILTER (WHERE status = '已入住') AS occupied,
           count(*) FILTER (WHERE status = '出租') AS rented,
           count(*) FILTER (WHERE status = '空置') AS vacant,
           count(*) FILTER (WHERE status = '装修中') AS decorating
    FROM households
    WHERE deleted_at IS NULL
    GROUP BY community_id
),
people AS (
    SELECT h.community_id,
           o.household_id,
           o.role,
           h.status,
           coalesce(nullif(trim(o.id_number), ''), o.name || '/' || coalesce(o.phone, '')) AS person
    FROM owners o
    JOIN households h ON h.id = o.household_id AND h.deleted_at IS NULL
    WHERE o.deleted_at IS NULL AND o.moved_out_on IS NULL
),
counted AS (
    SELECT community_id,
           count(DISTINCT person) FILTER (WHERE role = '业主') AS owners,
           count(*) FILTER (WHERE role = '家属') AS family,
           count(*) FILTER (WHERE role = '租户') AS tenants,
           count(*) FILTER (WHERE role IN ('家属', '租户') OR (role = '业主' AND status = '已入住')) AS residents
    FROM people
    GROUP BY community_id
),
multi AS (
    SELECT community_id, count(*) AS multi_home_owners
    FROM (SELECT community_id, person FROM people WHERE role = '业主'
          GROUP BY community_id, person HAVING count(DISTINCT household_id) > 1) m
    GROUP BY community_id
)
SELECT c.id AS community_id,
       c.name AS community,
       coalesce(h.households, 0) AS households,
       coalesce(h.occupied, 0) AS occupied,
       coalesce(h.rented, 0) AS rented,
       coalesce(h.vacant, 0) AS vacant,
       coalesce(h.decorating, 0) AS decorating,
       coalesce(p.owners, 0) AS owners,
       coalesce(m.multi_home_owners, 0) AS multi_home_owners,
       coalesce(p.family, 0) AS family,
       coalesce(p.tenants, 0) AS tenants,
       coalesce(p.residents, 0) AS residents,
       CAST(coalesce(p.residents, 0) AS DOUBLE) / nullif(h.occupied + h.rented, 0) AS residents_per_home
FROM communities c
LEFT JOIN homes h ON h.community_id = c.id
LEFT JOIN counted p ON p.community_id = c.id
LEFT JOIN multi m ON m.community_id = c.id
WHERE c.deleted_at IS NULL;
