-- Sign-ins, failures, throttling, sign-outs, expiries and changes to accounts
-- and wall keys, newest first, at most $limit.
SELECT happened_at, event, account, client, by_name, detail, user_id, by_id
FROM sign_in_events
ORDER BY event_id DESC
LIMIT $limit;
