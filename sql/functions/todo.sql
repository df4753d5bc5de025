-- The to-do list's words for a due date seen from as_of (v_todo and its parts):
-- '，已逾期 N 天' (past), '，今天到期' (today), '，还有 N 天' (still to come).
CREATE OR REPLACE MACRO due_text(as_of, due_on) AS
    CASE WHEN CAST(as_of AS DATE) - due_on > 0 THEN '，已逾期 ' || (CAST(as_of AS DATE) - due_on) || ' 天'
         WHEN CAST(as_of AS DATE) - due_on = 0 THEN '，今天到期'
         ELSE '，还有 ' || (due_on - CAST(as_of AS DATE)) || ' 天' END;

-- One to-do row in v_todo's columns from a thing due (`item`: a row with community_id, area,
-- what, ref_table, ref_id, due_on, severity): the words for its due date added to what, and
-- days_overdue = as_of − due_on. The parts write `SELECT unnest(todo_row(as_of, items)) FROM items`.
CREATE OR REPLACE MACRO todo_row(as_of, item) AS {
    'community_id': item.community_id,
    'area': item.area,
    'item': item.what || due_text(as_of, item.due_on),
    'ref_table': item.ref_table,
    'ref_id': item.ref_id,
    'due_on': item.due_on,
    'days_overdue': CAST(as_of AS DATE) - item.due_on,
    'severity': item.severity
};
