-- When the data last changed (a build, an import or a record saved).
SELECT max(CAST(value AS TIMESTAMPTZ)) AS data_changed_at
FROM meta
WHERE key IN ('built_at', 'data_changed_at');
