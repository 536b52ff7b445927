-- Wall-screen keys, for admins: never the key or its hash.
SELECT key_id, label, created_at, created_by, revoked_at, last_used_at
FROM wall_keys
ORDER BY created_at DESC;
