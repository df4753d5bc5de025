-- The to-do list's words for a due date seen from as_of (v_todo and its parts):
-- '，已逾期 N 天' (past), '，今天到期' (today), '，还有 N 天' (still to come).
CREATE OR REPLACE MACRO due_text(as_of, due_on) AS
    CASE WHEN CAST(as_of AS DATE) - due_on > 0 THEN '，已逾期 ' || (CAST(as_of AS DATE) - due_on) || ' 天'
         WHEN CAST(as_of AS DATE) - due_on = 0 THEN '，今天到期'
         ELSE '，还有 ' || (due_on - CAST(as_of AS DATE)) || ' 天' END;
