"""API rate limits: a token bucket (GCRA) per caller, in memory on SQLite, in the database on PostgreSQL.

rate.py: the one GCRA step (a limit, `50/s burst 100`, is hub/rates.py's); buckets.py: where the
bucket state lives. hub/request_limits.py applies them to API requests (429 with Retry-After).
"""
