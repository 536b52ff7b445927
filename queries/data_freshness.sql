-- When the data last changed by a save or an import (NULL when nothing has
-- been saved since the database was built), and when it was built. A build
-- stamps both keys at once, so a change no later than the build is the build.
WITH stamps AS (
    SELECT
        max(CAST(value AS TIMESTAMPTZ)) FILTER (WHERE key = 'built_at')        AS built_at,
        max(CAST(value AS TIMESTAMPTZ)) FILTER (WHERE key = 'data_changed_at') AS changed_at
    FROM meta
    WHERE key IN ('built_at', 'data_changed_at')
)
SELECT
    CASE WHEN changed_at > built_at OR built_at IS NULL THEN changed_at END AS data_changed_at,
    built_at
FROM stamps;
