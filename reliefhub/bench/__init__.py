"""The benchmark: every query and page against budgets, beside the typical Streamlit way.

python -m reliefhub bench --scales 10000,100000,1000000 --repeat 10 --json bench/results.json

For each scale it builds (or reuses, under bench/cache/) a synthetic database
made by reliefhub.generate (databases.py), then measures:

- query:<name>[<scenario>] (queries.py): each query in the registry of query
  cases (cases.py, which the tests read too), through Database.query with its
  result cache off, so DuckDB is measured. Scenarios: no filters (all), one
  country, one material, one month (dates). Beside it, the same question
  answered the typical Streamlit way (pandas_way.py: tables loaded into pandas
  once, filtered and grouped with pandas on every rerun), checked to give the
  same answer, value for value, before it is timed: the ratio.
- page:<path>[<scenario>] (pages.py): a whole rerun of each page under AppTest
  (queries, figures, serialisation), the result cache emptied before each run.
- map_payload[<colour>] (map_payload.py): bytes of the deck JSON the map sends.
- bulk_import (bulk_import.py): rows per second of a validated import of the
  scenario's shipments.
- server (server.py): peak memory (VmHWM) of `streamlit run` while a headless
  Chromium opens every page, and the cold start from launching the server to
  the first page drawn (map canvas shown).
- sessions (sessions.py, not by default): many people at once on one server
  (or, with --servers N, on one and on N behind nginx on a PostgreSQL store),
  beside a minimal Streamlit app (floor_app.py).

Times are medians and 90th percentiles over --repeat runs after a warm-up;
measurements.py holds the budgets and judges each figure against them,
report.py prints them, runner.py runs the parts and reads the command line.
"""

from reliefhub.bench.databases import working_copy
from reliefhub.bench.measurements import Measurement
from reliefhub.bench.report import ms, text_table
from reliefhub.bench.runner import main, run
from reliefhub.bench.server import streamlit_server

__all__ = ["Measurement", "main", "ms", "run", "streamlit_server", "text_table", "working_copy"]
