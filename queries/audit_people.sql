-- Everyone who has changed records of $tables (empty: any table), for the
-- Audit page's filter.
SELECT DISTINCT changed_by
FROM audit_log
WHERE len($tables) = 0 OR list_contains($tables, table_name)
ORDER BY changed_by;
