"""User text on a page is shown as text, never as Markdown or HTML.

Streamlit renders captions, titles, messages, metric labels and expander labels as Markdown, so
a 备注 like `![](http://host/b.png)` would load an image (a beacon) for every viewer, and
`[点此](http://host)` would plant a link. Data from the database goes through one of these:

- `show_text(value)`: a block of user text on its own (st.text: no Markdown at all);
- `md(value)`: user text placed inside a Markdown string (a caption, a subheader, a message).
  The marks that can start markup inline are backslash-escaped, which CommonMark shows as the
  mark itself: links and images (`[`, `]`), raw HTML (`<`), emphasis (`*`, `_`, `~`), code,
  autolinks (a zero-width space after `:` and `@` and in `www.`), Streamlit's `:red[...]`
  directives and `$` maths; a leading `-`, `+`, `#`, `>` or `1.` that would start a block. Line breaks become spaces. Other
  punctuation stays as typed, so 3-2-1201 and 建筑面积(㎡) read the same in the source.
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~$:@"} | {"\n": " ", "\r": " ", "\t": " "})
_BULLET = re.compile(r"^(\s*)([-+=])")
_ORDERED = re.compile(r"^(\s*\d+)([.)])")
_WWW = re.compile(r"(www)\.", re.IGNORECASE)
ZWSP = "\u200b"


def md(value: Any) -> str:
    """`value` as Markdown source that renders as exactly its text (one line)."""
    if value is None:
        return ""
    text = _WWW.sub("\\1" + ZWSP + "\\\\.", str(value).translate(_ESCAPES))
    # GFM turns http://, www. and a@b.cn in the text into links whatever the escapes (a pass over
    # the parsed text): an invisible zero-width space after ":" and "@" breaks the pattern
    text = text.replace("\\:", "\\:" + ZWSP).replace("\\@", "\\@" + ZWSP)
    return _ORDERED.sub(r"\1\\\2", _BULLET.sub(r"\1\\\2", text))


def show_text(value: Any) -> None:
    """A block of user text, shown as typed (no Markdown, no HTML)."""
    st.text("" if value is None else str(value))


def problems_markdown(kind: str, problems: list) -> str:
    """A save path refusal as a Markdown list; the problems quote user input, so it is escaped."""
    return f"{md(kind)}：\n\n" + "\n\n".join(f"- {md(p)}" for p in problems)
