"""Keep a comparison as a living-lab proposal: the compare page's change saved to the proposals
database (:mod:`twin.proposals`) with its titles, author and why, so that a workshop can come back
to it, evaluate it, comment and vote (the proposals page).

The change saved is exactly what was compared: the scenario file and the ``--set`` lines the form
made. Every text is checked by the store (:meth:`~twin.proposals.store.ProposalStore.new`); a
refusal is shown as escaped lines, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

WORDS: dict[str, dict[str, str]] = {
    "save": {"ko": "이 제안을 저장하기", "en": "Save this as a proposal"},
    "why": {"ko": "리빙랩에서 다시 보고, 평가하고, 의견과 투표를 받을 수 있도록 저장합니다.",
            "en": "Saved so that the living lab can come back to it, evaluate it, comment and vote."},
    "title_ko": {"ko": "제목 (한국어)", "en": "Title (Korean)"},
    "title_en": {"ko": "제목 (영어)", "en": "Title (English)"},
    "author": {"ko": "제안자 (이름 또는 모임)", "en": "Proposed by (a name or a group)"},
    "publish": {"ko": "공개 자료에 제안자 이름을 밝혀도 됩니다 (아니면 가명)",
                "en": "My name may be published in the open data (else a pseudonym)"},
    "desc_ko": {"ko": "설명 (한국어)", "en": "Description (Korean)"},
    "desc_en": {"ko": "설명 (영어)", "en": "Description (English)"},
    "submit": {"ko": "저장", "en": "Save"},
    "notice": {"ko": "제안은 공개 데이터(CC BY 4.0)로 공개됩니다. 제안자 이름은 위에 동의할 때만 공개합니다.",
               "en": "Proposals are published as open data (CC BY 4.0); the author's name only with the box above."},
    "again": {"ko": "이 제안은 이미 {id}번으로 저장했습니다.",
              "en": "This proposal is already saved as proposal {id}."},
    "saved": {"ko": "제안 {id}번으로 저장했습니다. '제안' 화면에서 열 수 있습니다.",
              "en": "Saved as proposal {id}. Open it on the Proposals page."},
    "refused": {"ko": "저장하지 못했습니다:", "en": "Not saved:"},
    "no_db": {"ko": "제안 데이터베이스를 열 수 없습니다 (서버 기록 참고).",
              "en": "The proposals database cannot be opened (see the server's log)."},
}


def w(key: str, lang: str) -> str:
    return WORDS[key][lang]


def save_block(st, lang: str, scenario: str | Path, sets: tuple[str, ...] | list[str]) -> int | None:
    """A form under a comparison that saves its change (``scenario`` and ``sets``) as a draft
    proposal. Returns the new proposal's id when it was saved in this script run."""
    from ..errors import ProposalError
    from .proposals_view import cached_store
    from .widgets import md_text

    with st.expander(w("save", lang)), st.form("save_proposal", clear_on_submit=False):
        st.caption(w("why", lang))
        title_ko = st.text_input(w("title_ko", lang), max_chars=200, key="save_title_ko")
        title_en = st.text_input(w("title_en", lang), max_chars=200, key="save_title_en")
        author = st.text_input(w("author", lang), max_chars=100, key="save_author")
        publish = st.checkbox(w("publish", lang), key="save_publish")
        st.caption(w("notice", lang))
        desc_ko = st.text_area(w("desc_ko", lang), max_chars=5000, key="save_desc_ko")
        desc_en = st.text_area(w("desc_en", lang), max_chars=5000, key="save_desc_en")
        if not st.form_submit_button(w("submit", lang)):
            return None
    what = (str(scenario), tuple(sets), title_ko, title_en, author)
    saved = st.session_state.get("saved_proposal")
    if saved is not None and saved[0] == what:  # the same form sent again (a double click)
        st.info(w("again", lang).format(id=saved[1]))
        return None
    store = cached_store()
    if store is None:
        st.error(w("no_db", lang))
        return None
    try:
        pid = store.new(title_ko=title_ko, title_en=title_en, author=author, author_public=publish,
                        scenario=str(scenario), overrides=list(sets), description_ko=desc_ko, description_en=desc_en)
    except ProposalError as exc:
        st.error(w("refused", lang) + "\n\n" + "\n".join(f"- {md_text(line)}" for line in exc.problems))
        return None
    st.session_state["saved_proposal"] = (what, pid)
    st.success(w("saved", lang).format(id=pid))
    return pid
