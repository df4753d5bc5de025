-- Working days (DOMAIN.md "Time, rates and rounding"): a day is a working day if a `holidays`
-- row says is_workday = true, or if it is Monday–Friday and no `holidays` row says
-- is_workday = false.
CREATE OR REPLACE MACRO is_workday(d) AS (
  coalesce(
    (SELECT h.is_workday FROM holidays h
     WHERE h.on_date = CAST(d AS DATE) AND h.deleted_at IS NULL
     ORDER BY h.id LIMIT 1),
    isodow(CAST(d AS DATE)) <= 5)
);

-- "N working days after moment t": the date of the N-th working day after the date of t
-- (the day of t itself not counted). n = 0 gives the date of t. Looks ahead 3n + 30 days,
-- more than any run of Chinese public holidays.
CREATE OR REPLACE MACRO workdays_after(t, n) AS (
  CASE WHEN t IS NULL OR n IS NULL THEN NULL
       WHEN n <= 0 THEN CAST(t AS DATE)
       ELSE (
         SELECT max(day) FROM (
           SELECT cal.day, row_number() OVER (ORDER BY cal.day) AS k
           FROM (SELECT CAST(t AS DATE) + CAST(g AS INTEGER) AS day
                 FROM unnest(generate_series(1, CAST(n AS BIGINT) * 3 + 30)) AS s(g)) cal
           LEFT JOIN holidays h ON h.on_date = cal.day AND h.deleted_at IS NULL
           WHERE coalesce(h.is_workday, isodow(cal.day) <= 5)
         ) w
         WHERE w.k = CAST(n AS BIGINT))
  END
);

-- A calendar of days from_d .. to_d with a running count of working days (workday_no), for
-- set-based deadlines: the N-th working day after day d is the working day whose workday_no
-- is d's workday_no + N. Used by the complaint views (one join instead of a lookup per row).
CREATE OR REPLACE MACRO workday_calendar(from_d, to_d) AS TABLE
SELECT day,
       working,
       CAST(sum(CASE WHEN working THEN 1 ELSE 0 END) OVER (ORDER BY day) AS INTEGER) AS workday_no  -- not HUGEINT: cheap join keys
FROM (
    SELECT CAST(g AS DATE) AS day,
           coalesce(h.is_workday, isodow(CAST(g AS DATE)) <= 5) AS working
    FROM generate_series(CAST(from_d AS TIMESTAMP), CAST(to_d AS TIMESTAMP), INTERVAL 1 DAY) AS s(g)
    LEFT JOIN holidays h ON h.on_date = CAST(g AS DATE) AND h.deleted_at IS NULL
) days;
