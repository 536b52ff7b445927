"""Streamlit glue shared by the pages, one module per concern:

- `dataset`: the database as pages see it, brought up to date first;
- `url_state`: widget values kept in the page's link;
- `shared_filters`: the sidebar filters and the queries they are bound to;
- `chrome`: the deep-link guard, page header, notices and faults;
- `maps`: the movements map and its legend;
- `tables`: paged tables, readable columns, audit changes, CSV downloads;
- `text`: stored text shown as itself where Streamlit reads Markdown.

Pages stay thin: they read filters, call queries, and draw.
"""
