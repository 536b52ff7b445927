-- kind: in place
-- Any database from before numbered migrations, brought to release 0.1's
-- schema: databases made before the audit trail existed get it; IF NOT EXISTS
-- leaves a newer one's as it is. (Those made before `movements` was stored had
-- it as a view, which models.build replaces.) An empty file, where every
-- database starts (migrations.schema), gets its first two tables here and its
-- source tables from 0002.

-- Facts about the database itself: its schema version, when it was built,
-- from what, and when its data last changed (the wall screen's "data as of").
CREATE TABLE IF NOT EXISTS meta (
    key    VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_log (
    change_id    BIGINT      NOT NULL,
    change_set   VARCHAR     NOT NULL,
    changed_at   TIMESTAMPTZ NOT NULL,
    changed_by   VARCHAR     NOT NULL CHECK (trim(changed_by) <> ''),
    via          VARCHAR     NOT NULL CHECK (via IN ('form', 'import')),
    source_file  VARCHAR,
    action       VARCHAR     NOT NULL CHECK (action IN ('add', 'update', 'status')),
    table_name   VARCHAR     NOT NULL,
    record_id    VARCHAR     NOT NULL,
    before_row   JSON,
    after_row    JSON        NOT NULL,
    CHECK ((action = 'add') = (before_row IS NULL))
);
