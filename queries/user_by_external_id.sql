-- The hub's account for a person signed in through the identity provider,
-- by the provider's subject or their e-mail; never a disabled one.
SELECT user_id, role, countries
FROM users
WHERE NOT disabled AND external_id IN ($subject, $email)
ORDER BY external_id = $subject DESC
LIMIT 1;
