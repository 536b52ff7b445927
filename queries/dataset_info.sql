-- What the database says about itself: synthetic (made by `python -m reliefhub
-- generate`, for load tests) or not, and how it was made.
SELECT
    coalesce(max(value) FILTER (WHERE key = 'synthetic') = 'true', false) AS synthetic,
    max(value) FILTER (WHERE key = 'synthetic_seed')                      AS seed,
    max(value) FILTER (WHERE key = 'synthetic_scale')                     AS scale
FROM meta;
