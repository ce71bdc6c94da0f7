"""The words of the proposals page and the facilitator view (twin.app.proposals_view,
twin.app.facilitator_view): their texts in Korean and English, a proposal's status, its change
(scenario overrides and dataset patch) and its evaluation's KPIs in plain words.

Everything here returns plain text: user text (titles, names, comments, device names of a patch) is
put in as typed, and the pages escape it (:func:`twin.app.widgets.md_text`) where it is shown.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ..ensemble.kpis import measure_of, place_of
from .i18n import t
from .sweep_words import UNITS_KO, num, param_label, param_value

KST = timezone(timedelta(hours=9), "KST")
MISSING = "–"
COMMENTS_SHOWN = 3  # latest comments on the facilitator view

WORDS: dict[str, tuple[str, str]] = {
    # --- the list --------------------------------------------------------------------------
    "participant": ("참가자 이름 (투표에 필요)", "Your name (needed to vote)"),
    "participant_help": (
        "투표는 이 이름으로 한 제안에 한 번만 셉니다 (다시 투표하면 바뀝니다).",
        "A vote counts once per name and proposal (voting again replaces it).",
    ),
    "status_filter": ("상태", "Status"),
    "all": ("모두", "All"),
    "search": ("찾기 (제목, 제안자)", "Search (title, author)"),
    "none": ("아직 제안이 없습니다. 이렇게 만드세요:", "No proposal yet. Make one with:"),
    "none_short": ("아직 제안이 없습니다.", "No proposal yet."),
    "no_match": ("조건에 맞는 제안이 없습니다.", "No proposal matches."),
    "count": ("제안 {n}건", "{n} proposals"),
    "col_title": ("제목", "Title"),
    "col_author": ("제안자", "Author"),
    "col_status": ("상태", "Status"),
    "col_for": ("찬성", "For"),
    "col_against": ("반대", "Against"),
    "col_comments": ("의견", "Comments"),
    "open": ("제안 열기", "Open a proposal"),
    "open_help": ("선택한 제안의 번호: {id}", "The chosen proposal's number: {id}"),
    # --- one proposal --------------------------------------------------------------------------
    "by": ("제안자 {author} · {status} · {date}", "By {author} · {status} · {date}"),
    "changes": ("무엇을 바꾸나", "What it changes"),
    "no_change": ("바꾸는 값이 없습니다 (현재와 같음).", "Nothing is changed (the same as today)."),
    "scenario": ("시나리오: {name}", "Scenario: {name}"),
    "evaluation": ("평가: 현재와 제안 비교", "Evaluation: today against the proposal"),
    "not_evaluated": (
        "아직 평가하지 않았습니다. 진행자가 이렇게 평가합니다:",
        "Not evaluated yet. The facilitator evaluates it with:",
    ),
    "not_evaluated_short": ("아직 평가하지 않았습니다.", "Not evaluated yet."),
    "evaluated_at": ("평가 시각 {date}", "Evaluated {date}"),
    "sweep_mean": (
        "여러 번 실행(스윕)한 평가입니다: 값은 현재 {a}회, 제안 {b}회 실행의 평균입니다.",
        "Evaluated over a sweep: values are the means of {a} runs (today) and {b} runs (proposal).",
    ),
    "side_by_side": ("나란히 보기: 지도와 수위", "Side by side: the maps and the water levels"),
    "runs_missing": (
        "이 평가의 실행 결과(지도)는 이 컴퓨터에 없습니다. 수치만 보여 줍니다.",
        "This evaluation's runs (the maps) are not on this machine; only the figures are shown.",
    ),
    "measure": ("지표", "Measure"),
    "places_changed": ("달라진 곳", "Places that changed"),
    "more_places": ("그 밖에 {n}곳", "{n} more places"),
    "open_data_notice": (
        "의견은 공개 데이터(CC BY 4.0)로 공개됩니다. 이름은 위에 동의할 때만 공개합니다.",
        "Comments are published as open data (CC BY 4.0); your name only if you tick the box above.",
    ),
    "gone": ("이 제안은 지워졌습니다.", "This proposal was removed."),
    "no_place_changed": ("곳별 결과는 달라지지 않았습니다.", "No place's result changed."),
    "place_line": ("{place} · {measure}: {a} → {b}", "{place} · {measure}: {a} → {b}"),
    "report": ("제안 보고서 내려받기 (HTML)", "Download the proposal's report (HTML)"),
    "no_report": ("보고서 기능이 아직 없습니다.", "The report is not available yet."),
    # --- feedback ------------------------------------------------------------------------------
    "votes": ("찬성 {f} · 반대 {a}", "{f} for · {a} against"),
    "vote_for": ("찬성하기", "Vote for"),
    "vote_against": ("반대하기", "Vote against"),
    "need_name": (
        "투표하려면 위의 '참가자 이름'에 이름을 적으세요.",
        "To vote, type your name in 'Your name' above.",
    ),
    "voted": ("{name} 님의 투표를 저장했습니다.", "Saved the vote of {name}."),
    "comments": ("의견", "Comments"),
    "no_comments": ("아직 의견이 없습니다.", "No comments yet."),
    "comment_form": ("의견 남기기", "Add a comment"),
    "comment_name": ("이름", "Name"),
    "comment_text": ("의견", "Comment"),
    "publish_name": ("내 이름을 공개해도 됩니다 (공개 데이터에 포함)", "Publish my name (also in the open data)"),
    "send": ("의견 보내기", "Send"),
    "need_comment": ("이름과 의견을 모두 적으세요.", "Type both a name and a comment."),
    "commented": ("의견을 저장했습니다.", "Saved the comment."),
    "anonymous": ("참가자 (이름 비공개)", "A participant (name not published)"),
    "comment_head": ("{name} · {date}", "{name} · {date}"),
    # --- the facilitator's status change ---------------------------------------------------------
    "facilitator": ("진행자: 상태 바꾸기", "Facilitator: change the status"),
    "facilitator_code": ("진행자 코드", "Facilitator code"),
    "new_status": ("새 상태", "New status"),
    "save": ("저장", "Save"),
    "saved": ("상태를 '{status}'(으)로 바꿨습니다.", "The status is now '{status}'."),
    "conflict": (
        "그 사이에 다른 사람이 이 제안을 바꿨습니다. 새로 불러왔으니 확인하고 다시 저장하세요.",
        "Someone changed it meanwhile; reloaded. Check it and save again.",
    ),
    "store_error": ("제안 저장소를 열 수 없습니다.", "The proposals database cannot be opened."),
    # --- the facilitator view ----------------------------------------------------------------------
    "prev": ("◀ 이전", "◀ Previous"),
    "next": ("다음 ▶", "Next ▶"),
    "position": ("{i} / {n}", "{i} / {n}"),
    "headline": ("핵심 지표: 현재 → 제안", "Headline figures: today → proposal"),
    "latest_comments": ("최근 의견", "Latest comments"),
    "vote_tally": ("투표", "Votes"),
    # --- patch devices ---------------------------------------------------------------------------
    "add": ("새 {kind} '{name}' 추가", "Add a new {kind} '{name}'"),
    "move": ("{kind} '{name}' 위치 옮김", "Move the {kind} '{name}'"),
    "remove": ("{kind} '{name}' 없앰", "Remove the {kind} '{name}'"),
    "policy": ("차단시설 작동 기준: {name}", "Gate policy: {name}"),
    "yes": ("예", "yes"),
    "no": ("아니오", "no"),
}
STATUS_WORDS: dict[str, tuple[str, str]] = {
    "draft": ("초안", "Draft"),
    "under_evaluation": ("평가 중", "Under evaluation"),
    "evaluated": ("평가 완료", "Evaluated"),
    "adopted": ("채택", "Adopted"),
    "rejected": ("기각", "Rejected"),
}
DEVICE_WORDS: dict[str, tuple[str, str]] = {
    "cctv": ("CCTV", "CCTV camera"),
    "gate": ("차단시설", "gate"),
    "signboard": ("전광판", "signboard"),
    "crosswalk": ("횡단보도", "crosswalk"),
}


def w(key: str, lang: str) -> str:
    """A text of these pages in ``lang`` ("ko"/"en")."""
    return WORDS[key][0 if lang == "ko" else 1]


def status_word(status: str, lang: str) -> str:
    """A proposal's status in words (draft -> 초안 / Draft); an unknown status as is."""
    pair = STATUS_WORDS.get(status)
    return status if pair is None else pair[0 if lang == "ko" else 1]


def title_of(p: dict[str, Any], lang: str) -> str:
    """A proposal's title in ``lang`` (the other language's when that one is empty)."""
    own, other = (p.get("title_ko"), p.get("title_en")) if lang == "ko" else (p.get("title_en"), p.get("title_ko"))
    return str(own or other or "")


def description_of(p: dict[str, Any], lang: str) -> str:
    """A proposal's description in ``lang`` (the other language's when that one is empty)."""
    ko, en = p.get("description_ko") or "", p.get("description_en") or ""
    return str((ko or en) if lang == "ko" else (en or ko))


def when(stamp: str | None, lang: str) -> str:
    """A stored UTC time (``2026-07-15T05:00:00Z``) as Korean time, "2026-07-15 14:00 KST"."""
    if not stamp:
        return MISSING
    try:
        dt = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return MISSING
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(KST).strftime("%Y-%m-%d %H:%M KST")


def comment_name(c: dict[str, Any], lang: str) -> str:
    """Who wrote a comment: the name when its writer agreed to publish it, else "a participant"."""
    return str(c.get("participant") or "") if c.get("public_name") else w("anonymous", lang)


# --- the change in words -----------------------------------------------------------------------
def override_words(line: str, lang: str, names: Any = None) -> str:
    """One scenario override ``key=value`` in words ("총 강우량: 120 mm"); ``key = value`` when the key
    has no words."""
    from pathlib import Path

    from .widgets import policy_label

    key, _, raw = str(line).partition("=")
    key, raw = key.strip(), raw.strip()
    if key == "controller.policy":
        return w("policy", lang).format(name=policy_label(Path(raw).name))
    label = param_label(key, lang, names)
    if label == key:
        return f"{key} = {raw}"
    value: Any = raw
    try:
        value = float(raw)
    except ValueError:
        pass
    return f"{label}: {param_value(key, value, lang)}"


def device_kind_word(kind: str, lang: str) -> str:
    """A device kind in words (cctv -> CCTV, gate -> 차단시설 / gate; another -> 장치 / device)."""
    pair = DEVICE_WORDS.get(str(kind), ("장치", "device"))
    return pair[0 if lang == "ko" else 1]


def patch_words(patch: dict[str, Any] | None, lang: str, names: Any = None, kinds: dict[str, str] | None = None
                ) -> list[str]:  # fmt: skip
    """A dataset patch's device changes in words: "새 CCTV '역 앞 카메라' 추가", "전광판 '…' 위치 옮김".
    A moved or removed device is named by the city (``names``); its kind comes from ``kinds``
    (device id -> kind) when given."""
    devices = (patch or {}).get("devices") or {}
    kinds = kinds or {}
    out: list[str] = []
    for d in devices.get("add") or []:
        kind = device_kind_word(str(d.get("kind", "")), lang)
        out.append(w("add", lang).format(kind=kind, name=d.get("name") or d.get("device_id", "")))
    for d in devices.get("move") or []:
        did = str(d.get("device_id", ""))
        out.append(w("move", lang).format(kind=device_kind_word(kinds.get(did, ""), lang),
                                          name=_device_name(did, lang, names)))  # fmt: skip
    for did in devices.get("remove") or []:
        out.append(w("remove", lang).format(kind=device_kind_word(kinds.get(str(did), ""), lang),
                                            name=_device_name(str(did), lang, names)))  # fmt: skip
    return out


def _device_name(device_id: str, lang: str, names: Any) -> str:
    return names.entity(device_id, lang) if names is not None else device_id


def change_lines(p: dict[str, Any], lang: str, names: Any = None, kinds: dict[str, str] | None = None) -> list[str]:
    """What a proposal changes, one sentence per override and per device change of its patch."""
    return [override_words(x, lang, names) for x in p.get("overrides") or []] + patch_words(
        p.get("dataset_patch"), lang, names, kinds
    )


# --- KPIs in words -----------------------------------------------------------------------------
def kpi_value(column: str, value: Any, lang: str) -> str:
    """One KPI value with its unit in words ("3 곳", "12.5 min", "예"); "–" when there is none."""
    from ..dataset_schema import THRESHOLD_LEVELS
    from .names import word

    if value is None or not isinstance(value, int | float) or not math.isfinite(float(value)):
        return MISSING
    m = measure_of(column)
    unit = m.unit if m is not None else ""
    x = float(value)
    if unit == "yes/no":
        return w("yes" if x >= 0.5 else "no", lang)
    if unit == "level":
        i = int(round(x))
        return word("level", THRESHOLD_LEVELS[i - 1], lang) if 1 <= i <= len(THRESHOLD_LEVELS) else w("no", lang)
    shown = UNITS_KO.get(unit, unit) if lang == "ko" else unit
    shown = "" if shown in ("-", "") else f" {shown}"
    return f"{num(x)}{shown}"


def kpi_label(column: str, lang: str, names: Any = None) -> str:
    """A KPI column in words: a run-wide one by its measure ("침수된 산책로"), a per-place one with the
    place's name first ("신곡교 · 최고 수위")."""
    m = measure_of(column)
    label = column if m is None else (m.ko if lang == "ko" else m.en)
    where = place_of(column)
    if where is None:
        return label
    place = names.entity(where[1], lang) if names is not None else where[1]
    return f"{place} · {label}"


def kpi_verdict(column: str, base: Any, prop: Any) -> str | None:
    """"better", "worse", "same" or "changed" (no better direction) for the proposal's ``prop``
    against the baseline's ``base``; None when either is missing."""
    ok = [isinstance(v, int | float) and math.isfinite(float(v)) for v in (base, prop)]
    if not all(ok):
        return None
    if math.isclose(float(base), float(prop), rel_tol=1e-9, abs_tol=1e-9):
        return "same"
    m = measure_of(column)
    if m is None or m.better is None:
        return "changed"
    return "better" if (float(prop) < float(base)) == (m.better == "lower") else "worse"


def kpi_rows(kpis: dict[str, Any], lang: str, names: Any = None, *, places: bool = False) -> list[dict[str, Any]]:
    """The rows of an evaluation's KPIs (``{"baseline": {column: value}, "proposal": {...}}``): run-wide
    columns (``kpi/...``), or with ``places`` the per-place columns whose value changed. Each row:
    column, label (place and measure), measure, place ("" for run-wide), baseline and proposal (values
    in words) and verdict (a key of :func:`kpi_verdict` or None)."""
    base = kpis.get("baseline") or {}
    prop = kpis.get("proposal") or {}
    columns = sorted(dict.fromkeys([*base, *prop]), key=_declared_order)
    out = []
    for c in columns:
        m = measure_of(c)
        if m is None or (place_of(c) is None) == places:
            continue
        b, q = base.get(c), prop.get(c)
        verdict = kpi_verdict(c, b, q)
        if places and verdict in (None, "same"):
            continue
        if b is None and q is None:
            continue
        where = place_of(c)
        out.append({"column": c, "label": kpi_label(c, lang, names), "measure": m.ko if lang == "ko" else m.en,
                    "place": "" if where is None else (names.entity(where[1], lang) if names is not None
                                                       else where[1]),
                    "baseline": kpi_value(c, b, lang), "proposal": kpi_value(c, q, lang), "verdict": verdict})
    return out


def _declared_order(column: str) -> int:
    """A run-wide KPI's place in the models' declarations (flood, crowd, gates, collapse); per-place
    columns keep their order after them."""
    from ..ensemble.kpis import MODEL_KPIS

    order = [f"kpi/{m.name}" for model in MODEL_KPIS for m in model.run]
    return order.index(column) if column in order else len(order)


def headline(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The ``n`` rows to put first: those that changed (better, worse), then the others, each group in
    its order; rows without a verdict are left out."""
    moved = [r for r in rows if r["verdict"] in ("better", "worse", "changed")]
    return (moved + [r for r in rows if r["verdict"] == "same"])[:n]


def verdict_word(verdict: str | None, lang: str) -> str:
    """The verdict in words (나아짐/나빠짐/같음/달라짐), "–" without one."""
    return t(verdict, lang) if verdict else MISSING
