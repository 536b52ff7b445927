-- The audit trail, newest first: who changed which record (the account's name
-- and stable id), when, how (a form, an import or the command line), which
-- fields, and the whole row before and after as JSON.
-- An empty $tables matches every table; a NULL $changed_by, $record_id or
-- $change_set matches all; a NULL $limit lists every match (the CSV export).
-- matching_changes counts every match, however many rows $limit keeps.
SELECT
    change_id,
    changed_at,
    changed_by,
    changed_by_id,
    via,
    source_file,
    action,
    table_name,
    record_id,
    CASE WHEN before_row IS NOT NULL THEN
        array_to_string(list_filter(json_keys(after_row),
            lambda k: json_extract(before_row, k) IS DISTINCT FROM json_extract(after_row, k)), ', ')
    END AS changed_fields,
    before_row,
    after_row,
    change_set,
    count(*) OVER () AS matching_changes
FROM audit_log
WHERE (len($tables) = 0 OR list_contains($tables, table_name))
  AND ($changed_by IS NULL OR changed_by = $changed_by)
  AND ($record_id IS NULL OR record_id = $record_id)
  AND ($change_set IS NULL OR change_set = $change_set)
ORDER BY change_id DESC
LIMIT $limit;
