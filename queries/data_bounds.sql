-- The span of the data: the default date range, and "data as of". Stored
-- with each change (reliefhub/movements.py, DATA_SPAN), because every page
-- asks for it on every rerun.
SELECT first_date, last_date
FROM data_span;
