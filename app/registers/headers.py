"""Header cells as people write them, compared the way a person would: the one normalisation that
register aliases (checked when a definition loads) and imported spreadsheets' headers share."""

from __future__ import annotations

import re
import unicodedata

_BRACKETED = re.compile(r"[(\[【〔{<《「][^()\[\]【】〔〕{}<>《》「」]*[)\]】〕}>》」]")
_MARKS = re.compile(r"必填项?|选填项?|可选|非必填|必输")
_UNIT_TAIL = re.compile(r"[/／](元|㎡|m2|m²|平方米|平米|天|个)$")
_DROPPED = re.compile(r"[\s*＊:：_·'\"“”]")


def norm_header(text) -> str:
    """A header cell as compared: width folded, first line only, no brackets with their contents,
    no 必填/选填/可选 marks, no *, spaces or trailing units, lower case."""
    s = unicodedata.normalize("NFKC", str(text))
    lines = [line for line in s.splitlines() if line.strip()]
    s = lines[0] if lines else ""
    bare = _BRACKETED.sub("", s)
    s = bare if _DROPPED.sub("", _MARKS.sub("", bare)) else s.strip("()[]【】")  # "(备注)" keeps its word
    s = _MARKS.sub("", s)
    s = _DROPPED.sub("", s).lower()
    return _UNIT_TAIL.sub("", s) or s
