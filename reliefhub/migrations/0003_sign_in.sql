-- kind: in place
-- Sign-in: every audit row names the account's stable id beside its display
-- name, and may come from the command line (via 'cli'). Rows written before
-- sign-in named a typed name only: their id says so ('name:' and the name).
-- The accounts, wall-screen keys and sign-in events get their tables.
-- No foreign key references audit_log, so it is rebuilt in place.

-- Audit trail: every change made in the dashboard, by an import or from the
-- command line, with who made it (the signed-in account's stable id and its
-- display name; on the command line the operating-system user and the name
-- given with --who), when, how, and the whole row before and after
-- as JSON. One change set is one save or one import. change_id orders the
-- changes as they were written (within an import by line, so numbers may
-- skip); the one writer numbers them, far faster than a sequence for a
-- million-row import.
CREATE TABLE audit_log_signed (
    change_id    BIGINT      NOT NULL,
    change_set   VARCHAR     NOT NULL,
    changed_at   TIMESTAMPTZ NOT NULL,
    changed_by_id VARCHAR    NOT NULL CHECK (trim(changed_by_id) <> ''),
    changed_by   VARCHAR     NOT NULL CHECK (trim(changed_by) <> ''),
    via          VARCHAR     NOT NULL CHECK (via IN ('form', 'import', 'cli')),
    source_file  VARCHAR,
    action       VARCHAR     NOT NULL CHECK (action IN ('add', 'update', 'status')),
    table_name   VARCHAR     NOT NULL,
    record_id    VARCHAR     NOT NULL,
    before_row   JSON,
    after_row    JSON        NOT NULL,
    CHECK ((action = 'add') = (before_row IS NULL))
);
INSERT INTO audit_log_signed BY NAME SELECT *, 'name:' || changed_by AS changed_by_id FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_signed RENAME TO audit_log;

-- Local accounts, and accounts of the identity provider whose role the hub
-- keeps (external_id: the provider's subject or e-mail; no password).
-- user_id is stable: the audit trail names it, whatever else changes.
CREATE TABLE IF NOT EXISTS users (
    user_id        VARCHAR     PRIMARY KEY,
    -- Letters (any script), digits, spaces inside, . _ @ ' -: a person's name or an e-mail.
    name           VARCHAR     NOT NULL UNIQUE CHECK (regexp_full_match(name, '[\pL\pN]([\pL\pN ._@''-]{0,62}[\pL\pN._@-])?')),
    role           VARCHAR     NOT NULL CHECK (role IN ('viewer', 'analyst', 'staff', 'admin')),
    -- Staff limited to some countries (ISO 3166 alpha-3); empty: every country.
    countries      VARCHAR[]   NOT NULL,
    password_hash  VARCHAR,
    external_id    VARCHAR,
    disabled       BOOLEAN     NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    CHECK (password_hash IS NOT NULL OR external_id IS NOT NULL)
);

-- One key per wall screen. Only the SHA-256 of the key is kept: the link is
-- shown once, when the key is made.
CREATE TABLE IF NOT EXISTS wall_keys (
    key_id        VARCHAR     PRIMARY KEY,
    label         VARCHAR     NOT NULL CHECK (trim(label) <> ''),
    key_hash      VARCHAR     NOT NULL UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    VARCHAR     NOT NULL,
    revoked_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ
);

-- Sign-ins, failed and throttled sign-ins, sign-outs and expiries, and every
-- change to accounts and wall keys, newest last. `account` is the name tried
-- (which may not exist), `client` the browser's address.
CREATE TABLE IF NOT EXISTS sign_in_events (
    event_id     BIGINT      NOT NULL,
    happened_at  TIMESTAMPTZ NOT NULL,
    event        VARCHAR     NOT NULL CHECK (event IN (
                     'sign_in', 'failed', 'throttled', 'sign_out', 'expired',
                     'user_added', 'role_changed', 'disabled', 'password_reset',
                     'wall_key_added', 'wall_key_revoked', 'wall_key_refused')),
    account      VARCHAR,
    user_id      VARCHAR,
    client       VARCHAR,
    by_id        VARCHAR,
    by_name      VARCHAR,
    detail       VARCHAR
);
