-- Usage of one meter reading (meter_readings), or NULL when it cannot be billed:
-- 正常 (or none given): current − previous, not when the reading went down;
-- 翻表 (rollover): maximum + 1 − previous + current, maximum = max_reading or 10^digits − 1
--   (9990 → 0015 on a 4-digit meter: 9999 + 1 − 9990 + 15 = 25);
-- 换表 (replacement): (old meter's final − previous) + (current − new meter's start).
CREATE OR REPLACE MACRO meter_usage(kind, prev, curr, digits, max_reading, old_final, new_start) AS
    CASE coalesce(kind, '正常')
        WHEN '正常' THEN CASE WHEN curr >= prev THEN curr - prev END
        WHEN '翻表' THEN CASE WHEN curr < prev
                              AND coalesce(max_reading, CAST(pow(10, digits) AS DECIMAL(18,0)) - 1) >= prev
                         THEN coalesce(max_reading, CAST(pow(10, digits) AS DECIMAL(18,0)) - 1) + 1 - prev + curr END
        WHEN '换表' THEN CASE WHEN old_final >= prev AND curr >= new_start
                         THEN (old_final - prev) + (curr - new_start) END
    END;

-- Why a reading's usage is NULL (the dry run, the run's output and the to-do list say it).
CREATE OR REPLACE MACRO meter_unbillable_text(meter, kind, prev, curr) AS
    meter || '表本期读数 ' || curr || ' 小于上期 ' || prev
    || CASE coalesce(kind, '正常')
           WHEN '正常' THEN '，未标明翻表或换表，不出账'
           WHEN '翻表' THEN '，翻表缺少表盘位数或最大读数，不出账'
           ELSE '，换表读数不全或不合理，不出账' END;
