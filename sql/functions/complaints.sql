-- The cut-off of the complaint rules: a DATE counts what was recorded by the end of that day; a
-- TIMESTAMP is the cut-off itself.
CREATE OR REPLACE MACRO complaint_cutoff(as_of) AS (
  CASE WHEN typeof(as_of) = 'DATE'
       THEN CAST(CAST(as_of AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY
       ELSE CAST(as_of AS TIMESTAMP) END
);

-- What one complaint_facts row counts for in v_complaint_stats with what was recorded before
-- `cutoff` (TIMESTAMP 'infinity': everything recorded): received; valid (有效投诉); handled;
-- on_time (handled by its deadline); fed_back. The one definition of these counts: the kept
-- complaint_counts (app/complaint_facts.py) and complaint_stats_as_of both count with it.
CREATE OR REPLACE MACRO complaint_counted(is_valid, received_at, handled_at, feedback_at, deadline, cutoff) AS {
  'received': received_at < cutoff,
  'valid': received_at < cutoff AND coalesce(is_valid, true),
  'handled': received_at < cutoff AND coalesce(is_valid, true) AND handled_at < cutoff,
  'on_time': received_at < cutoff AND coalesce(is_valid, true) AND handled_at < cutoff
             AND CAST(handled_at AS DATE) <= deadline,
  'fed_back': received_at < cutoff AND coalesce(is_valid, true) AND handled_at < cutoff AND feedback_at < cutoff
};
