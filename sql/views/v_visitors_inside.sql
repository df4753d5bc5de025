-- v_visitors_inside: 在园访客
-- rule: visitors registered on or before as_of who had not left by the end of that day (left_at
--       empty or on a later day): who is still inside. days_inside = as_of − the day of the visit;
--       overnight = the visit began before as_of (an exit probably not registered).
--       Point in time: visitors_inside_as_of(as_of DATE); this view is it at current_date.
-- source: 三(四) 保安管理 7 访客管理 1) 出入登记记录
-- parameters: none
-- 规则：当天及以前登记、当天结束时仍未离开的访客；在园天数 = 当天 − 来访日；来访早于当天的标为过夜（可能漏登离开）。
-- 参数：无
-- label visitor_id: 访客登记编号
-- label community_id: 小区编号
-- label name: 访客姓名
-- label id_number: 证件号
-- label phone: 联系电话
-- label household_id: 被访房屋
-- label purpose: 事由
-- label plate: 车牌
-- label gate: 出入口
-- label visited_at: 来访时间
-- label days_inside: 已过天数
-- label overnight: 跨日未离开
CREATE OR REPLACE MACRO visitors_inside_as_of(as_of) AS TABLE
SELECT v.id AS visitor_id,
       v.community_id,
       v.name,
       v.id_number,
       v.phone,
       v.household_id,
       v.purpose,
       v.plate,
       v.gate,
       v.visited_at,
       CAST(as_of AS DATE) - CAST(v.visited_at AS DATE) AS days_inside,
       CAST(v.visited_at AS DATE) < CAST(as_of AS DATE) AS overnight
FROM visitors v
WHERE v.deleted_at IS NULL
  AND CAST(v.visited_at AS DATE) <= CAST(as_of AS DATE)
  AND (v.left_at IS NULL OR CAST(v.left_at AS DATE) > CAST(as_of AS DATE));

CREATE OR REPLACE VIEW v_visitors_inside AS
SELECT * FROM visitors_inside_as_of(current_date);
