-- One row per save or import, newest first: when, who, how, what file, and
-- how many records it added, updated or moved to another status. Filters as
-- in audit_log.sql.
SELECT
    change_set,
    min(changed_at)                               AS changed_at,
    any_value(changed_by)                         AS changed_by,
    any_value(via)                                AS via,
    any_value(source_file)                        AS source_file,
    string_agg(DISTINCT table_name, ', ')         AS tables,
    count(*) FILTER (WHERE action = 'add')        AS added,
    count(*) FILTER (WHERE action = 'update')     AS updated,
    count(*) FILTER (WHERE action = 'status')     AS status_changes,
    CASE WHEN count(*) = 1 THEN any_value(record_id) END AS record_id
FROM audit_log
WHERE (len($tables) = 0 OR list_contains($tables, table_name))
  AND ($changed_by IS NULL OR changed_by = $changed_by)
  AND ($record_id IS NULL OR record_id = $record_id)
GROUP BY change_set
ORDER BY min(change_id) DESC
LIMIT $limit;
