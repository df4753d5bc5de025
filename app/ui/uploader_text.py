"""Chinese text on Streamlit's file uploader and on an empty date input.

st.file_uploader has no parameter for its own words: the button says "Upload" and the drop
zone "50MB per file • XLSX, CSV" (Streamlit 1.67, frontend FileUploader). The English is kept
out of sight and Chinese put in its place with CSS, once per page run; the labels on our
uploaders already name the file types and size limits. An empty st.date_input (value=None)
shows its parts as "yyyy", "mm", "dd" whatever the browser's language: 年, 月, 日 instead.
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
[role="group"] [role="spinbutton"][data-placeholder="true"] {{ font-size: 0; }}
[role="group"] [role="spinbutton"][data-placeholder="true"]::after {{ font-size: 0.875rem; }}
[role="group"] [role="spinbutton"][data-placeholder="true"][data-type="year"]::after {{ content: "年"; }}
[role="group"] [role="spinbutton"][data-placeholder="true"][data-type="month"]::after {{ content: "月"; }}
[role="group"] [role="spinbutton"][data-placeholder="true"][data-type="day"]::after {{ content: "日"; }}
</style>"""


def inject() -> None:
    """Put the Chinese words on every file uploader and date input of this page run (a style block
    takes no space)."""
    st.html(CSS)
