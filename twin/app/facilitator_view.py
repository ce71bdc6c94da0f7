"""The facilitator view of a workshop: the proposals one by one on the room's screen, in large text.

Previous / next walk through them (oldest first, "3 / 7"); each shows its title, description, what it
changes in words, the headline figures of its latest evaluation (today → proposal, better or worse),
the vote tally and the latest comments. The large text is a fixed style block (:data:`FACILITATOR_CSS`,
no user text in it); everything people typed goes through :func:`twin.app.widgets.md_text`.
"""

from __future__ import annotations

from typing import Any

from .i18n import t
from .proposals_view import device_kinds, latest_evaluation, listed, names_or_none
from .proposals_words import (
    COMMENTS_SHOWN,
    change_lines,
    comment_name,
    description_of,
    headline,
    kpi_rows,
    status_word,
    title_of,
    verdict_word,
    w,
    when,
)
from .widgets import md_text

INDEX_KEY = "fac_index"  # session key: which proposal (0-based, oldest first) is on the screen
HEADLINES = 6  # at most this many headline figures
METRIC_COLUMNS = 2  # figures side by side ("263 인·분 → 767 인·분" must fit in large text)
FACILITATOR_CSS = """<style>
[data-testid="stMain"] .stMarkdown p, [data-testid="stMain"] .stMarkdown li {font-size: 1.6rem !important;
  line-height: 1.45 !important;}
[data-testid="stMain"] .stCaption p {font-size: 1.25rem !important;}
[data-testid="stMain"] [data-testid="stHeading"] h2 {font-size: 2.4rem !important;}
[data-testid="stMain"] [data-testid="stHeading"] h3 {font-size: 2.6rem !important;}
[data-testid="stMain"] [data-testid="stMetricValue"] {font-size: 2.2rem !important;}
[data-testid="stMain"] [data-testid="stMetricLabel"] p {font-size: 1.3rem !important;}
[data-testid="stMain"] .stButton button p {font-size: 1.5rem !important;}
</style>"""


def _step(st, by: int, n: int) -> None:
    """Callback of previous / next: move ``by`` proposals, staying within the ``n`` there are."""
    st.session_state[INDEX_KEY] = min(max(int(st.session_state.get(INDEX_KEY, 0)) + by, 0), n - 1)


def headline_metrics(st, ev: dict[str, Any] | None, lang: str) -> None:
    """The run-wide figures of an evaluation as metrics "today → proposal", marked better/worse."""
    st.markdown(f"**{w('headline', lang)}**")
    if ev is None:
        st.caption(w("not_evaluated_short", lang))
        return
    rows = headline(kpi_rows(ev.get("kpis") or {}, lang), HEADLINES)
    cols = st.columns(METRIC_COLUMNS)
    for i, r in enumerate(rows):
        verdict = r["verdict"]
        color = {"better": "normal", "worse": "inverse"}.get(verdict, "off")
        cols[i % METRIC_COLUMNS].metric(r["measure"], f"{r['baseline']} → {r['proposal']}",
                                        delta=verdict_word(verdict, lang), delta_color=color, delta_arrow="off",
                                        help=r["column"])  # fmt: skip


def facilitator_page(st, city, lang: str, store) -> None:
    """The facilitator view (``store``: a ProposalStore, None when the database cannot be opened)."""
    st.header(t("page_facilitator", lang))
    st.markdown(FACILITATOR_CSS, unsafe_allow_html=True)  # a fixed style block: no user text
    if store is None:
        st.error(w("store_error", lang))
        return
    found = listed(st, store, lang)
    if found is None:
        return
    rows = found[::-1]  # oldest first: the order they were proposed in
    if not rows:
        st.info(w("none_short", lang))
        return
    n = len(rows)
    i = min(max(int(st.session_state.get(INDEX_KEY, 0)), 0), n - 1)
    st.session_state[INDEX_KEY] = i
    a, b, c = st.columns([1, 2, 1])
    a.button(w("prev", lang), key="fac_prev", on_click=_step, args=(st, -1, n), disabled=i == 0)
    b.markdown(f"**{w('position', lang).format(i=i + 1, n=n)}**")
    c.button(w("next", lang), key="fac_next", on_click=_step, args=(st, 1, n), disabled=i == n - 1)
    p = store.get(int(rows[i]["id"]))
    names = names_or_none(city)
    st.subheader(md_text(title_of(p, lang)), help=w("open_help", lang).format(id=p["id"]))
    st.caption(md_text(w("by", lang).format(author=p.get("author") or "", status=status_word(str(p["status"]), lang),
                                            date=when(p.get("created_at"), lang))))  # fmt: skip
    desc = description_of(p, lang)
    if desc.strip():
        st.markdown(md_text(desc))
    lines = change_lines(p, lang, names, device_kinds(city))
    body = "\n".join(f"- {md_text(x)}" for x in lines) or md_text(w("no_change", lang))
    st.markdown(f"**{w('changes', lang)}**\n\n{body}")
    headline_metrics(st, latest_evaluation(p), lang)
    st.markdown(f"**{w('vote_tally', lang)}: {w('votes', lang).format(f=p['votes_for'], a=p['votes_against'])}**")
    comments = (p.get("comments") or [])[-COMMENTS_SHOWN:]
    st.markdown(f"**{w('latest_comments', lang)}**")
    if not comments:
        st.caption(w("no_comments", lang))
    for cm in reversed(comments):  # newest first
        quote = "\n".join(f"> {md_text(x)}" for x in str(cm.get("text") or "").splitlines())
        st.markdown(f"{quote}\n>\n> — {md_text(comment_name(cm, lang))}")
