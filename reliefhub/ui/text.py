"""Stored and uploaded text shown as itself where Streamlit reads Markdown."""

from __future__ import annotations

import re

import pandas as pd


def escape_markdown(text: str) -> str:
    """Stored or uploaded text, shown as itself where Streamlit reads Markdown.

    The marks that open Markdown's links, images, HTML, emphasis, code and
    headings, and Streamlit's :colour[] and $maths$, are backslash-escaped:
    an image in a place name would otherwise make the browser fetch it."""
    return re.sub(r"([\\`*_{}\[\]<>!~|$#])", r"\\\1", str(text))


def plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame for st.table, which reads its text cells as Markdown: every text
    cell (and the index) escaped, so stored text shows as itself."""

    def escaped(values):
        return values.map(lambda v: v if pd.isna(v) else escape_markdown(v))

    shown = frame.apply(lambda c: escaped(c) if c.dtype == object or pd.api.types.is_string_dtype(c) else c)
    if frame.index.dtype == object or pd.api.types.is_string_dtype(frame.index):
        shown.index = pd.Index(escaped(frame.index.to_series()), name=frame.index.name)
    return shown


def code_span(text: str) -> str:
    """Text as Markdown code, shown literally: fenced by more backticks than it holds in a row."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if "`" in text else f"{fence}{text}{fence}"
