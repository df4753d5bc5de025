"""Chinese text on Streamlit's file uploader.

st.file_uploader has no parameter for its own words: the button says "Upload" and the drop
zone "50MB per file • XLSX, CSV" (Streamlit 1.67, frontend FileUploader). The English is kept
out of sight and Chinese put in its place with CSS, once per page run; the labels on our
uploaders already name the file types and size limits.
"""

from __future__ import annotations

import streamlit as st

BUTTON = "选择文件"
INSTRUCTIONS = "或把文件拖到这里"

# The test ids are Streamlit's own; the text is the uploader's only content there.
CSS = f"""<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {{
  content: "{BUTTON}"; font-size: 0.875rem; }}
[data-testid="stFileUploaderDropzoneInstructions"] span {{ font-size: 0; }}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {{
  content: "{INSTRUCTIONS}"; font-size: 0.875rem; }}
</style>"""


def inject() -> None:
    """Put the Chinese words on every file uploader of this page run (a style block takes no space)."""
    st.html(CSS)
