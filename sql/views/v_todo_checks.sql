-- v_todo_checks: 检查与整改、保安待办
-- rule: what is due in 检查与整改, in v_todo's columns (to be unioned into it):
--       inspection plans due (v_inspection_due: 中 when overdue, 低 due today; due_on = next_due);
--       rectifications not done by as_of (高 past the deadline, 中 due today, 低 still in time;
--       due_on = deadline); rectifications done but not verified (低; due_on = the day done);
--       missed patrols on the complete days of the last security.patrol_lookback_days days
--       (v_patrol_coverage: 中 when none at all that day, else 低; due_on = that day);
--       the latest monitor log of a community keeping recordings for fewer than
--       security.recording_days days (中; due_on = its day); visitors still inside from an earlier
--       day (v_visitors_inside overnight: 低; due_on = the day of the visit).
--       days_overdue = as_of − due_on (negative: days still to go).
--       Point in time: todo_checks_as_of(as_of DATE); this view is it at current_date.
-- source: 三(三)(四)(五) 检查制度; 三(四) 3 巡视频次, 6 监控中心管理, 7 访客管理; 四 ISO9001 纠正措施
-- parameters: security.patrol_lookback_days [7], security.recording_days [30], those of
--       v_inspection_due, v_patrol_coverage
-- 规则：检查与整改、保安方面的待办：到期的检查计划；未完成的整改单（已过期限为高）和已完成待验证的整改单；最近几天巡视次数不足；监控录像保存天数不足；前一天起仍未登记离开的访客。
-- 参数：巡视检查回看天数（默认 7 天）、监控录像保存天数（默认 30 天），以及「检查计划到期」「保安巡视频次」的参数
-- label community_id: 小区编号
-- label area: 业务范围
-- label item: 事项
-- label ref_table: 台账
-- label ref_id: 行编号
-- label due_on: 到期日
-- label days_overdue: 逾期天数
-- label severity: 紧急程度
CREATE OR REPLACE MACRO todo_checks_as_of(as_of) AS TABLE
WITH items AS (
    SELECT community_id,
           '检查计划 ' || area || '·' || item || '（每 ' || frequency_days || ' 天，' || method || '）'
               || CASE WHEN last_inspected_on IS NULL THEN '从未检查' ELSE '上次检查 ' || strftime(last_inspected_on, '%m-%d') END
               || '，到期检查' AS item,
           'inspection_plans' AS ref_table,
           plan_id AS ref_id,
           next_due AS due_on,
           CASE WHEN overdue THEN '中' ELSE '低' END AS severity
    FROM inspection_due_as_of(CAST(as_of AS DATE))
    WHERE due

    UNION ALL
    SELECT community_id,
           '整改（' || source || '）' || issue
               || CASE WHEN responsible_id IS NULL THEN '，未指定责任人' ELSE '' END
               || CASE WHEN deadline < CAST(as_of AS DATE) THEN '，逾期未整改'
                       WHEN deadline = CAST(as_of AS DATE) THEN '，今天到期'
                       ELSE '，限 ' || strftime(deadline, '%m-%d') || ' 前整改' END,
           'rectifications',
           id,
           deadline,
           CASE WHEN deadline < CAST(as_of AS DATE) THEN '高'
                WHEN deadline = CAST(as_of AS DATE) THEN '中'
                ELSE '低' END
    FROM rectifications
    WHERE deleted_at IS NULL
      AND coalesce(opened_on, CAST(created_at AS DATE)) <= CAST(as_of AS DATE)
      AND (done_at IS NULL OR CAST(done_at AS DATE) > CAST(as_of AS DATE))
      AND (verified_at IS NULL OR CAST(verified_at AS DATE) > CAST(as_of AS DATE))

    UNION ALL
    SELECT community_id,
           '整改（' || source || '）' || issue || '，已整改待验证',
           'rectifications',
           id,
           CAST(done_at AS DATE),
           '低'
    FROM rectifications
    WHERE deleted_at IS NULL
      AND CAST(done_at AS DATE) <= CAST(as_of AS DATE)
      AND (verified_at IS NULL OR CAST(verified_at AS DATE) > CAST(as_of AS DATE))

    UNION ALL
    SELECT community_id,
           '保安巡视（' || scope || '）' || strftime(patrol_day, '%m-%d') || ' 巡视 ' || patrols
               || ' 次，应 ' || required || ' 次，少巡 ' || missed || ' 次',
           'patrols',
           last_patrol_id,
           patrol_day,
           CASE WHEN patrols = 0 THEN '中' ELSE '低' END
    FROM patrol_coverage_as_of(CAST(as_of AS DATE))
    WHERE complete
      AND missed > 0
      AND patrol_day >= CAST(as_of AS DATE)
                        - CAST(coalesce(setting_int('security.patrol_lookback_days', community_id), 7) AS INTEGER)

    UNION ALL
    SELECT community_id,
           '监控录像仅保存 ' || kept_days || ' 天，少于 ' || required_days || ' 天',
           'monitor_logs',
           id,
           logged_on,
           '中'
    FROM (
        SELECT id,
               community_id,
               CAST(logged_at AS DATE) AS logged_on,
               CAST(logged_at AS DATE) - recording_from AS kept_days,
               setting_int('security.recording_days', community_id) AS required_days
        FROM monitor_logs
        WHERE deleted_at IS NULL
          AND recording_from IS NOT NULL
          AND CAST(logged_at AS DATE) <= CAST(as_of AS DATE)
        QUALIFY row_number() OVER (PARTITION BY community_id ORDER BY logged_at DESC, id DESC) = 1
    )
    WHERE kept_days < required_days

    UNION ALL
    SELECT community_id,
           '访客 ' || name || ' ' || strftime(visited_at, '%m-%d %H:%M') || ' 进入，尚未登记离开',
           'visitors',
           visitor_id,
           CAST(visited_at AS DATE),
           '低'
    FROM visitors_inside_as_of(CAST(as_of AS DATE))
    WHERE overnight
)
SELECT community_id,
       '检查与整改' AS area,
       item || CASE WHEN ref_table = 'inspection_plans' AND CAST(as_of AS DATE) - due_on > 0
                    THEN '，已逾期 ' || (CAST(as_of AS DATE) - due_on) || ' 天'
                    WHEN ref_table = 'rectifications' AND CAST(as_of AS DATE) - due_on > 0
                         AND item NOT LIKE '%已整改待验证'
                    THEN ' ' || (CAST(as_of AS DATE) - due_on) || ' 天'
                    ELSE '' END AS item,
       ref_table,
       ref_id,
       due_on,
       CAST(as_of AS DATE) - due_on AS days_overdue,
       severity
FROM items;

CREATE OR REPLACE VIEW v_todo_checks AS
SELECT * FROM todo_checks_as_of(current_date);
