-- Every country code a record may name (account limits are checked against it).
SELECT iso3 FROM countries ORDER BY iso3;
