-- v_todo: 待办事项
-- rule: the union of what is due or overdue in the rule views, one row per thing to do:
--       fire equipment not 正常 (v_fire_equipment_status), assets not 正常 (v_asset_maintenance_due),
--       expiring contracts (v_contract_expiring), stock items below safety stock (v_stock_balance),
--       overdue archive loans (v_archive_loans_overdue), and the repair and complaint items of
--       v_todo_service (orders past or near their arrival/completion limits, complaints past
--       their deadlines, hotspots, bad visits without rework).
--       Also v_todo_quality (quality documents due for review, 业委会 follow-ups, survey measures).
--       Also v_todo_checks (inspection plans due, open rectifications, missed patrols, short recording retention, visitors not signed out).
--       Also v_todo_estate (decoration violations, overdue works and deposits to refund, parking leases,
--       vacant-unit checks and keys, fire drills, emergency plans, open incidents).
--       Also v_todo_fees (households in arrears for fee.arrears_todo_days or more, with the last 催缴 step).
--       due_on is the date behind the row's state (stock: as_of); days_overdue = as_of − due_on
--       (0 due today, negative: that many days still to go, e.g. a contract in its warning window).
--       severity: 高 = fire equipment past its scrap age, asset maintenance overdue, an inspection
--       certificate already expired, a contract past its end still 履行中;
--       中 = fire equipment due for service or check, a certificate about to expire, an overdue
--       archive loan, a stock item with nothing left; 低 = maintenance coming within the warning days,
--       a contract in its warning window, stock below safety stock.
--       Point in time: todo_as_of(as_of DATE); this view is it at current_date.
-- source: 三(九) 消防制度; 二(一)2 设备设施; 一 10 合同管理; 一 6 采购及库存管理; 一 3 档案管理
-- parameters: those of the views above
-- 规则：汇总各条规则中到期或逾期的事项，一件事一行：消防器材、设备维保、到期合同、低于安全库存的物资、逾期档案借阅，以及维修与投诉、质量体系与业委会、检查与整改、装修停车空房与应急、欠费各类待办。每件事给出应办日期、逾期天数（负数为还剩几天）和紧急程度（高、中、低）。
-- 参数：同上述各条规则
-- label community_id: 小区编号
-- label area: 业务范围
-- label item: 事项
-- label ref_table: 台账
-- label ref_id: 行编号
-- label due_on: 到期日
-- label days_overdue: 逾期天数
-- label severity: 紧急程度
CREATE OR REPLACE MACRO todo_as_of(as_of) AS TABLE
WITH items AS (
    SELECT community_id,
           '设备与消防' AS area,
           '消防器材 ' || equip_no || ' ' || type || '（' || coalesce(location, '') || '）'
               || CASE state WHEN '待报废' THEN '已到报废年限'
                             WHEN '待维修' THEN '到期维修'
                             ELSE '到期检查' END AS what,
           'fire_equipment' AS ref_table,
           fire_equipment_id AS ref_id,
           due_on,
           CASE state WHEN '待报废' THEN '高' ELSE '中' END AS severity
    FROM fire_equipment_status_as_of(as_of)
    WHERE state <> '正常'

    UNION ALL
    SELECT community_id,
           '设备与消防',
           '设备 ' || asset_no || ' ' || name || '（' || category || '）'
               || CASE state WHEN '逾期' THEN '维保逾期'
                             WHEN '证书到期' THEN '检验证书到期'
                             ELSE '即将到期维保' END,
           'assets',
           asset_id,
           due_on,
           CASE WHEN state = '逾期' THEN '高'
                WHEN state = '证书到期' AND due_on < as_of THEN '高'
                WHEN state = '证书到期' THEN '中'
                ELSE '低' END
    FROM asset_maintenance_due_as_of(as_of)
    WHERE state <> '正常'

    UNION ALL
    SELECT community_id,
           '合同与工程',
           '合同 ' || contract_no || ' ' || title || '（' || counterparty || '）'
               || CASE WHEN days_left < 0 THEN '已过结束日仍在履行' ELSE '即将到期' END,
           'contracts',
           contract_id,
           end_on,
           CASE WHEN days_left < 0 THEN '高' ELSE '低' END
    FROM contract_expiring_as_of(as_of)

    UNION ALL
    SELECT community_id,
           '档案与公文',
           '档案 ' || archive_no || '《' || title || '》借阅人 ' || borrower || ' 逾期未还',
           'archive_loans',
           archive_loan_id,
           due_on,
           '中'
    FROM archive_loans_overdue_as_of(as_of)
)
SELECT unnest(todo_row(as_of, items)) FROM items
UNION ALL  -- stock is counted on as_of itself: no due words, 0 days overdue
SELECT community_id,
       '采购与库存',
       '库存 ' || code || ' ' || name || ' 结存 '
           || rtrim(rtrim(CAST(on_hand AS VARCHAR), '0'), '.') || coalesce(unit, '')
           || '，低于安全库存 '
           || rtrim(rtrim(CAST(safety_stock AS VARCHAR), '0'), '.') || coalesce(unit, ''),
       'stock_items',
       stock_item_id,
       as_of,
       0,
       CASE WHEN on_hand <= 0 THEN '中' ELSE '低' END
FROM stock_balance_as_of(as_of)
WHERE below_safety
UNION ALL SELECT * FROM todo_service_as_of(as_of)
UNION ALL SELECT * FROM todo_quality_as_of(as_of)
UNION ALL SELECT * FROM todo_checks_as_of(as_of)
UNION ALL SELECT * FROM todo_estate_as_of(as_of)
UNION ALL SELECT * FROM todo_fees_as_of(as_of)
UNION ALL SELECT * FROM todo_repair_fund_as_of(as_of)
UNION ALL SELECT * FROM todo_projects_as_of(as_of);

CREATE OR REPLACE VIEW v_todo AS
SELECT * FROM todo_as_of(current_date);
