"""The compare page keeps its change as a living-lab proposal: saved to the proposals database with
its titles and author, exactly the scenario and overrides compared; a bad title is refused and
nothing is saved."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from app_pages import as_shown, open_page  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from twin.proposals.store import open_store  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_a_comparison_is_saved_as_a_proposal_with_exactly_its_change(tmp_path, monkeypatch):
    monkeypatch.setenv("TWIN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TWIN_DB_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=300).run()
    open_page(at, "compare")
    at.button(key="cmp_run").click().run()  # the default proposal: leave at a lowered 관심 level
    assert not at.exception
    compared = at.session_state["cmp_key"]
    at.text_input(key="save_title_ko").input("")  # no Korean title: refused
    at.text_input(key="save_title_en").input("Leave earlier")
    at.text_input(key="save_author").input("호원동 주민")
    at.button[[b.label for b in at.button].index("저장")].click().run()
    assert not at.exception
    assert any("title.ko: got nothing: expected text" in as_shown(e.value) for e in at.error)
    store = open_store(f"sqlite:///{tmp_path / 'proposals.sqlite'}")
    assert store.proposals() == []
    at.text_input(key="save_title_ko").input("관심 단계에 산책로에서 나오기")
    at.checkbox(key="save_publish").check()
    at.button[[b.label for b in at.button].index("저장")].click().run()
    assert not at.exception and any("제안 1번으로 저장했습니다" in s.value for s in at.success)
    p = store.get(1)
    assert (p["title_ko"], p["title_en"], p["author"], p["author_public"], p["status"]) == (
        "관심 단계에 산책로에서 나오기", "Leave earlier", "호원동 주민", True, "draft")
    assert Path(p["scenario"]) == Path(compared[0]).resolve() and p["overrides"] == list(compared[1])
    assert p["overrides"]  # the change compared, not nothing
    at.button[[b.label for b in at.button].index("저장")].click().run()  # sent again: not a second proposal
    assert any("이미 1번으로 저장했습니다" in x.value for x in at.info) and len(store.proposals()) == 1
