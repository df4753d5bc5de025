-- Named after settings.sql on purpose: functions load in name order and these use setting_text.
-- The owners' vote on the special maintenance fund (专项维修资金), Civil Code Art. 278
-- (《民法典》第二百七十八条). Shares are fractions "n/d" held as text settings so that the
-- comparison is exact: part × d against whole × n, never a rounded decimal (200 of 300 ㎡ is
-- exactly two thirds).
--   fund.vote_participation [2/3]: owners taking part hold ≥ this of the exclusive area AND are ≥ this of the owners
--   fund.vote_use [1/2]: using the fund needs MORE than this of the participating area AND owners
--   fund.vote_raise [3/4]: raising the fund (筹集) or rebuilding (改建重建) needs ≥ this of both
CREATE OR REPLACE MACRO share_at_least(part, whole, fraction) AS (
    part * CAST(split_part(fraction, '/', 2) AS BIGINT) >= whole * CAST(split_part(fraction, '/', 1) AS BIGINT));
CREATE OR REPLACE MACRO share_more_than(part, whole, fraction) AS (
    part * CAST(split_part(fraction, '/', 2) AS BIGINT) > whole * CAST(split_part(fraction, '/', 1) AS BIGINT));
CREATE OR REPLACE MACRO fund_vote_quorum(voted_area, voted_owners, scope_area, scope_owners, cid) AS (
    share_at_least(voted_area, scope_area, coalesce(setting_text('fund.vote_participation', cid), '2/3'))
    AND share_at_least(voted_owners, scope_owners, coalesce(setting_text('fund.vote_participation', cid), '2/3')));
CREATE OR REPLACE MACRO fund_vote_agreed(matter, agreed_area, agreed_owners, voted_area, voted_owners, cid) AS (
    CASE WHEN matter = '使用维修资金' THEN
             share_more_than(agreed_area, voted_area, coalesce(setting_text('fund.vote_use', cid), '1/2'))
             AND share_more_than(agreed_owners, voted_owners, coalesce(setting_text('fund.vote_use', cid), '1/2'))
         ELSE
             share_at_least(agreed_area, voted_area, coalesce(setting_text('fund.vote_raise', cid), '3/4'))
             AND share_at_least(agreed_owners, voted_owners, coalesce(setting_text('fund.vote_raise', cid), '3/4'))
    END);
