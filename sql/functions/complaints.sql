-- The cut-off of the complaint rules: a DATE counts what was recorded by the end of that day; a
-- TIMESTAMP is the cut-off itself.
CREATE OR REPLACE MACRO complaint_cutoff(as_of) AS (
  CASE WHEN typeof(as_of) = 'DATE'
       THEN CAST(CAST(as_of AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY
       ELSE CAST(as_of AS TIMESTAMP) END
);
