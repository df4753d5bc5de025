-- v_parking_occupancy: 车位占用
-- rule: one row per community: spaces by kind (产权, 租赁, 临时); leased = 租赁 spaces with a
--       household and a lease running on as_of (lease_end_on >= as_of); vacant_for_lease = 租赁
--       spaces without a running lease; parked = vehicles inside at the end of as_of (entered
--       before the next day, not exited by then), of which temporary; temp_occupancy = temporary
--       vehicles parked / 临时 spaces (NULL without temporary spaces); temp_stays = temporary stays
--       that ended on as_of, temp_fees = their fees (v_parking_temp_fees).
--       Point in time: parking_occupancy_as_of(as_of DATE); this view is it at current_date.
-- source: 三(十一) 停车场管理
-- parameters: those of v_parking_temp_fees
-- 规则：每个小区一行：按产权、租赁、临时分的车位数；租期内的租赁车位和空闲可租车位；当天结束时场内车辆数（其中临时车）、临时车位占用率，当天结束的临时停车次数及收费。
-- 参数：同「临时停车收费」
-- label community_id: 小区编号
-- label community: 小区
-- label spaces: 车位总数
-- label owned: 产权车位
-- label leasable: 租赁车位
-- label leased: 在租车位
-- label vacant_for_lease: 待租车位
-- label temp_spaces: 临时车位
-- label parked: 场内车辆
-- label parked_temporary: 场内临时车辆
-- label temp_occupancy: 临时车位占用率
-- label temp_stays: 当日临时停车次数
-- label temp_fees: 当日临时停车费(元)
CREATE OR REPLACE MACRO parking_occupancy_as_of(as_of) AS TABLE
WITH spaces AS (
    SELECT community_id,
           count(*) AS spaces,
           count(*) FILTER (WHERE kind = '产权') AS owned,
           count(*) FILTER (WHERE kind = '租赁') AS leasable,
           count(*) FILTER (WHERE kind = '租赁' AND household_id IS NOT NULL
                              AND lease_end_on >= as_of) AS leased,
           count(*) FILTER (WHERE kind = '临时') AS temp_spaces
    FROM parking_spaces
    WHERE deleted_at IS NULL
    GROUP BY community_id
),
inside AS (
    SELECT community_id,
           count(*) AS parked,
           count(*) FILTER (WHERE is_temporary) AS parked_temporary
    FROM parking_events
    WHERE deleted_at IS NULL
      AND entered_at < CAST(as_of AS DATE) + 1
      AND (exited_at IS NULL OR exited_at >= CAST(as_of AS DATE) + 1)
    GROUP BY community_id
),
fees AS (
    SELECT community_id, count(*) AS temp_stays, sum(fee) AS temp_fees
    FROM parking_temp_fees_as_of(as_of)
    WHERE CAST(exited_at AS DATE) = as_of
    GROUP BY community_id
)
SELECT c.id AS community_id,
       c.name AS community,
       coalesce(s.spaces, 0) AS spaces,
       coalesce(s.owned, 0) AS owned,
       coalesce(s.leasable, 0) AS leasable,
       coalesce(s.leased, 0) AS leased,
       coalesce(s.leasable, 0) - coalesce(s.leased, 0) AS vacant_for_lease,
       coalesce(s.temp_spaces, 0) AS temp_spaces,
       coalesce(i.parked, 0) AS parked,
       coalesce(i.parked_temporary, 0) AS parked_temporary,
       CASE WHEN coalesce(s.temp_spaces, 0) > 0
            THEN coalesce(i.parked_temporary, 0) / CAST(s.temp_spaces AS DOUBLE) END AS temp_occupancy,
       coalesce(f.temp_stays, 0) AS temp_stays,
       CAST(coalesce(f.temp_fees, 0) AS DECIMAL(12,2)) AS temp_fees
FROM communities c
LEFT JOIN spaces s ON s.community_id = c.id
LEFT JOIN inside i ON i.community_id = c.id
LEFT JOIN fees f ON f.community_id = c.id
WHERE c.deleted_at IS NULL;

CREATE OR REPLACE VIEW v_parking_occupancy AS
SELECT * FROM parking_occupancy_as_of(current_date);
