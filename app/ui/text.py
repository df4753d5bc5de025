"""User text on a page is shown as text, never as Markdown or HTML.

Streamlit renders captions, titles, messages, metric labels and expander labels as Markdown, so
a 备注 like `![](http://host/b.png)` would load an image (a beacon) for every viewer, and
`[点此](http://host)` would plant a link. Data from the database goes through one of these:

- `show_text(value)`: a block of user text on its own (st.text: no Markdown at all);
- `md(value)`: user text placed inside a Markdown string (a caption, a subheader, a message),
  with every ASCII punctuation mark backslash-escaped, which CommonMark shows as the mark itself.
  That defeats links, images, emphasis, raw HTML, autolinks (`http\\:`, `www\\.`), Streamlit's
  `:red[...]`/`:material/...:` directives and `$` maths. Line breaks become spaces.
"""

from __future__ import annotations

import string
from typing import Any

import streamlit as st

_ESCAPES = str.maketrans({c: "\\" + c for c in string.punctuation} | {"\n": " ", "\r": " ", "\t": " "})


def md(value: Any) -> str:
    """`value` as Markdown source that renders as exactly its text (one line)."""
    if value is None:
        return ""
    return str(value).translate(_ESCAPES)


def show_text(value: Any) -> None:
    """A block of user text, shown as typed (no Markdown, no HTML)."""
    st.text("" if value is None else str(value))


def problems_markdown(kind: str, problems: list) -> str:
    """A save path refusal as a Markdown list; the problems quote user input, so it is escaped."""
    return f"{md(kind)}：\n\n" + "\n\n".join(f"- {md(p)}" for p in problems)
