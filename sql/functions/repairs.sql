-- Shared by the repair rules (v_work_order_sla, v_repair_stats).
-- repair_cutoff(as_of): the moment an as-of macro counts up to. A DATE counts what was recorded by
-- the end of that day (today: by now); a TIMESTAMP is the cut-off itself.
CREATE OR REPLACE MACRO repair_cutoff(as_of) AS (
  CASE WHEN typeof(as_of) = 'DATE'
       THEN CASE WHEN CAST(as_of AS DATE) = current_date THEN localtimestamp
                 ELSE CAST(CAST(as_of AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY END
       ELSE CAST(as_of AS TIMESTAMP) END
);

-- work_order_materials(cutoff): 维修领料, per order the 出库 movements issued to it before cutoff,
-- Σ round(qty × unit_price, 2) (unit_price: the item's average price when issued).
CREATE OR REPLACE MACRO work_order_materials(cutoff) AS TABLE
SELECT work_order_id,
       sum(round(qty * coalesce(unit_price, 0), 2)) AS material_cost
FROM stock_movements
WHERE deleted_at IS NULL AND direction = '出库' AND work_order_id IS NOT NULL AND moved_at < cutoff
GROUP BY work_order_id;
