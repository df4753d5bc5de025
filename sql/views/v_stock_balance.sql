-- v_stock_balance: 库存结存
-- rule: one row per stock item. on_hand = Σ 入库 qty − Σ 出库 qty + Σ 盘点调整 qty (signed);
--       avg_price = Σ(入库 qty × unit_price) / Σ 入库 qty, rounded half-up to 0.0001 (NULL with no 入库);
--       value = on_hand × avg_price rounded half-up to 0.01; below_safety = on_hand < safety_stock.
--       Point in time: stock_balance_as_of(as_of DATE) counts movements up to the end of as_of;
--       this view is it at current_date.
-- source: 一 6 采购及库存管理 (库存的有效控制及及时补充, 库存的帐务处理)
-- parameters: none (safety_stock is a column of stock_items)
-- 规则：每个物资一行：结存 = 入库数量 − 出库数量 + 盘点调整；平均单价 = 入库金额 ÷ 入库数量（保留 4 位小数）；库存金额 = 结存 × 平均单价（保留 2 位小数）；结存低于安全库存时标出。
-- 参数：无（安全库存在每个物资上填写）
-- label stock_item_id: 物品编号(内部)
-- label community_id: 小区编号
-- label code: 物品编码
-- label name: 名称规格
-- label category: 类别
-- label unit: 单位
-- label location: 库位
-- label safety_stock: 安全库存
-- label in_qty: 累计入库
-- label out_qty: 累计出库
-- label adjust_qty: 盘点调整
-- label on_hand: 结存数量
-- label avg_price: 平均单价(元)
-- label value: 结存金额(元)
-- label below_safety: 低于安全库存
-- label last_moved_at: 最近出入库
CREATE OR REPLACE MACRO stock_balance_as_of(as_of) AS TABLE
WITH by_direction AS (
    -- one pass over the movements, grouped by item and direction
    SELECT stock_item_id,
           direction,
           sum(qty) AS qty,
           sum(qty * unit_price) AS amount,
           max(moved_at) AS last_moved_at
    FROM stock_movements
    WHERE deleted_at IS NULL AND moved_at < as_of + 1
    GROUP BY stock_item_id, direction
),
moved AS (
    SELECT stock_item_id,
           coalesce(sum(qty) FILTER (WHERE direction = '入库'), 0) AS in_qty,
           coalesce(sum(qty) FILTER (WHERE direction = '出库'), 0) AS out_qty,
           coalesce(sum(qty) FILTER (WHERE direction = '盘点调整'), 0) AS adjust_qty,
           sum(amount) FILTER (WHERE direction = '入库') AS in_value,
           max(last_moved_at) AS last_moved_at
    FROM by_direction
    GROUP BY stock_item_id
),
scaled AS (
    SELECT *, in_value / nullif(in_qty, 0) * 10000 AS avg_scaled  -- DOUBLE: DuckDB divides DECIMALs so
    FROM moved
),
priced AS (
    -- Half-up to 0.0001. The floating-point quotient is right unless it lies next to a half;
    -- there the rounding is done on scaled integers: avg × 10^4 = (in_value × 10^7) / (in_qty × 10^3).
    SELECT stock_item_id,
           in_qty,
           out_qty,
           adjust_qty,
           last_moved_at,
           CASE WHEN in_qty <= 0 THEN NULL
                WHEN abs(avg_scaled - floor(avg_scaled) - 0.5) > 0.001
                THEN CAST(round(avg_scaled) / 10000 AS DECIMAL(10,4))
                ELSE CAST(
                    CAST((2 * CAST(in_value * 10000000 AS HUGEINT) + CAST(in_qty * 1000 AS HUGEINT))
                         // (2 * CAST(in_qty * 1000 AS HUGEINT)) AS DECIMAL(18,0))
                    * CAST(0.0001 AS DECIMAL(5,4))
                AS DECIMAL(10,4)) END AS avg_price
    FROM scaled
)
SELECT i.id AS stock_item_id,
       i.community_id,
       i.code,
       i.name,
       i.category,
       i.unit,
       i.location,
       i.safety_stock,
       coalesce(m.in_qty, 0) AS in_qty,
       coalesce(m.out_qty, 0) AS out_qty,
       coalesce(m.adjust_qty, 0) AS adjust_qty,
       coalesce(m.in_qty - m.out_qty + m.adjust_qty, 0) AS on_hand,
       m.avg_price,
       round(coalesce(m.in_qty - m.out_qty + m.adjust_qty, 0) * m.avg_price, 2) AS value,
       coalesce(m.in_qty - m.out_qty + m.adjust_qty, 0) < coalesce(i.safety_stock, 0) AS below_safety,
       m.last_moved_at
FROM stock_items i
LEFT JOIN priced m ON m.stock_item_id = i.id
WHERE i.deleted_at IS NULL;

CREATE OR REPLACE VIEW v_stock_balance AS
SELECT * FROM stock_balance_as_of(current_date);
