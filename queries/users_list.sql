-- The accounts, for admins: never the password hash.
SELECT name, role, array_to_string(countries, ', ') AS countries, disabled,
       external_id, user_id, created_at
FROM users
ORDER BY name;
