"""Opening a page of the app in streamlit.testing's AppTest, shared by the app's tests."""

from __future__ import annotations

from typing import Any

from twin.app.i18n import t


def open_page(at: Any, page: str) -> Any:
    """Open a page of the navigation, as its link in the sidebar does. AppTest.switch_page takes
    only file pages; a callable st.Page is known by the hash of its url_path (the page name)."""
    from streamlit.util import calc_hash

    at._page_hash = calc_hash(page)
    at.run()
    assert not at.exception
    lang = at.session_state["lang"]
    assert at.header[0].value == t(f"page_{page}", lang)  # not silently the default page
    return at


def as_shown(markdown: str) -> str:
    """What a reader sees of markdown written by :func:`twin.app.widgets.md_text`: its backslash
    escapes undone, the colon entity read, the invisible word joiners dropped, line breaks kept."""
    import re

    from twin.app.widgets import WORD_JOINER

    return re.sub(r"\\(.)", r"\1", markdown).replace("&#58;", ":").replace(WORD_JOINER, "").replace("  \n", "\n")
