-- v_repair_fund_vote: 维修资金表决
-- rule: one row per application of repair_fund_applications. quorum = voted_area ≥ scope_area ×
--       fund.vote_participation AND voted_owners ≥ scope_owners × fund.vote_participation.
--       agreed: for 使用维修资金, agreed_area > voted_area × fund.vote_use AND agreed_owners >
--       voted_owners × fund.vote_use (more than half); for 筹集维修资金 and 改建重建, agreed_area ≥
--       voted_area × fund.vote_raise AND agreed_owners ≥ voted_owners × fund.vote_raise.
--       passed = quorum AND agreed. Fractions compare exactly (sql/functions/votes.sql).
--       result: 未表决 (no votes entered), 参与不足, 同意不足, 通过.
--       Example: 300 ㎡ and 9 owners in scope; 200 ㎡ and 6 owners voting is exactly two thirds
--       (quorum; 199.99 ㎡ or 5 owners is not). To use the fund, 100.01 ㎡ and 4 owners agreeing
--       pass (more than half of 200 ㎡ and of 6); 100.00 ㎡ or 3 owners do not.
-- source: 《民法典》第二百七十八条; 《住宅专项维修资金管理办法》(建设部、财政部令第165号) 第二十二条
-- parameters: fund.vote_participation [2/3], fund.vote_use [1/2], fund.vote_raise [3/4]
-- 规则：每个维修资金申请一行：参与表决的业主所持专有面积和人数须各自达到涉及业主的三分之二以上（含）；使用维修资金须经参与表决面积过半数且人数过半数的业主同意，筹集维修资金和改建重建须经参与表决面积和人数各四分之三以上（含）同意。两项都满足才算表决通过。比例按分数精确比较。依据《民法典》第二百七十八条。
-- 参数：参与表决比例（默认 2/3）、使用维修资金同意比例（默认超过 1/2）、筹集或改建重建同意比例（默认 3/4）
-- label repair_fund_application_id: 申请编号(内部)
-- label community_id: 小区编号
-- label application_no: 申请编号
-- label matter: 表决事项
-- label project: 项目
-- label amount: 申请金额
-- label status: 状态
-- label participation_area_pct: 参与面积占比(%)
-- label participation_owner_pct: 参与人数占比(%)
-- label agreed_area_pct: 同意面积占比(%)
-- label agreed_owner_pct: 同意人数占比(%)
-- label quorum: 参与达标
-- label agreed: 同意达标
-- label passed: 表决通过
-- label result: 表决结果
CREATE OR REPLACE VIEW v_repair_fund_vote AS
WITH counted AS (
    SELECT a.*,
           coalesce(a.voted_area, 0) AS v_area,
           coalesce(a.voted_owners, 0) AS v_owners,
           coalesce(a.agreed_area, 0) AS a_area,
           coalesce(a.agreed_owners, 0) AS a_owners
    FROM repair_fund_applications a
    WHERE a.deleted_at IS NULL
),
judged AS (
    SELECT *,
           fund_vote_quorum(v_area, v_owners, scope_area, scope_owners, community_id) AS quorum,
           v_owners > 0 AND fund_vote_agreed(matter, a_area, a_owners, v_area, v_owners, community_id) AS agreed
    FROM counted
)
SELECT id AS repair_fund_application_id,
       community_id,
       application_no,
       matter,
       project,
       amount,
       status,
       round(100.0 * v_area / scope_area, 2) AS participation_area_pct,
       round(100.0 * v_owners / scope_owners, 2) AS participation_owner_pct,
       CASE WHEN v_area > 0 THEN round(100.0 * a_area / v_area, 2) END AS agreed_area_pct,
       CASE WHEN v_owners > 0 THEN round(100.0 * a_owners / v_owners, 2) END AS agreed_owner_pct,
       quorum,
       agreed,
       quorum AND agreed AS passed,
       CASE WHEN v_owners = 0 THEN '未表决'
            WHEN NOT quorum THEN '参与不足'
            WHEN NOT agreed THEN '同意不足'
            ELSE '通过' END AS result
FROM judged;
