"""The result cache stays within its memory bound, measured from the frames' buffers."""

import pandas as pd

from reliefhub.db import ResultCache, frame_bytes


def test_frame_bytes_agrees_with_pandas_deep_count_for_every_kind_of_column():
    frame = pd.DataFrame(
        {
            "name": pd.Series(["Bergamo", "Essen", None], dtype="str"),
            "flights": [3, 1, 2],
            "tonnes": [1.5, None, 2.0],
            "day": pd.to_datetime(["2020-03-28", "2020-04-01", None]),
            "aircraft": pd.array([1, None, 3], dtype="Int32"),
            "loose": pd.Series([["a"], ["b", "c"], None], dtype=object),
        }
    )
    assert frame_bytes(frame) == int(frame.memory_usage(index=False, deep=True).sum())


def test_the_least_recently_used_result_leaves_first_when_the_bound_is_reached():
    small = pd.DataFrame({"n": range(10)})  # 80 bytes
    cache = ResultCache(max_bytes=200)
    cache.put(("a",), small)
    cache.put(("b",), small)
    assert cache.get(("a",)) is small  # now "b" is the least recently used
    cache.put(("c",), small)
    assert cache.get(("b",)) is None
    assert cache.get(("a",)) is small and cache.get(("c",)) is small
    cache.put(("too big",), pd.DataFrame({"n": range(100)}))
    assert cache.get(("too big",)) is None
