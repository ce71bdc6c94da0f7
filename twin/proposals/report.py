"""A proposal as one self-contained HTML page (Korean or English), for a workshop to print or mail.

:func:`proposal_html` takes the dict :meth:`~twin.proposals.store.ProposalStore.get` returns and
gives a page with its titles, description, author, status, change (overrides and the device patch
in words), its latest evaluation (baseline vs proposal per KPI, with names, units and which one is
better), votes and comments. Every text a person typed is escaped (:func:`html.escape`); the page
has no script, loads nothing from elsewhere and forbids both (Content-Security-Policy). A
commenter's name is shown only where they consented to publish it; otherwise a pseudonym
(참여자 N / participant N: the author first, then by first comment on this page), and so is an
author who did not consent (``author_public``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

WORDS: dict[str, dict[str, str]] = {
    "ko": {"author": "제안자", "status": "상태", "change": "변경 내용", "scenario": "시나리오",
           "overrides": "변경값", "devices": "시설 변경", "none": "없음", "evaluation": "평가 (최근)",
           "measure": "지표", "baseline": "기준", "proposal": "제안", "unit": "단위", "verdict": "판정",
           "better": "▲ 나아짐", "worse": "▼ 나빠짐", "same": "= 같음", "votes": "투표", "for": "찬성",
           "against": "반대", "comments": "의견", "no_evaluation": "아직 평가하지 않았습니다.",
           "no_comments": "아직 의견이 없습니다.", "participant": "참여자", "created": "제안 시각",
           "missing": "없음", "description": "설명", "proposal_word": "제안",
           "sweep": "여러 번 실행한 평균입니다 (기준 {base}회, 제안 {proposal}회).",
           "places": "결과가 달라진 곳", "unchanged": "그 밖의 {n}곳은 결과가 같습니다.",
           "no_place": "결과가 달라진 곳이 없습니다."},
    "en": {"author": "Proposed by", "status": "Status", "change": "The change", "scenario": "Scenario",
           "overrides": "Settings changed", "devices": "Device changes", "none": "none",
           "evaluation": "Evaluation (latest)", "measure": "Measure", "baseline": "Baseline",
           "proposal": "Proposal", "unit": "Unit", "verdict": "Verdict", "better": "▲ better",
           "worse": "▼ worse", "same": "= same", "votes": "Votes", "for": "for", "against": "against",
           "comments": "Comments", "no_evaluation": "Not evaluated yet.", "no_comments": "No comments yet.",
           "participant": "participant", "created": "Proposed at", "missing": "none",
           "description": "Description", "proposal_word": "Proposal",
           "sweep": "Means over many runs ({base} of the baseline, {proposal} of the proposal).",
           "places": "Places whose result changed", "unchanged": "The other {n} places: the same result.",
           "no_place": "No place's result changed."},
}
STATUS_WORDS = {
    "draft": ("초안", "draft"), "under_evaluation": ("평가 중", "under evaluation"),
    "evaluated": ("평가됨", "evaluated"), "adopted": ("채택", "adopted"), "rejected": ("기각", "rejected"),
}
KIND_WORDS = {
    "gate": ("차단시설", "gate"), "cctv": ("CCTV", "camera"), "signboard": ("안내판", "signboard"),
    "crosswalk": ("횡단보도", "crossing"), "gauge": ("수위계", "gauge"),
    "access_point": ("산책로 출입구", "path entrance"),
    "zone": ("구역", "zone"), "site": ("붕괴 위험지", "site"),
}
OPERATION_WORDS = {"add": ("추가", "add"), "move": ("이동", "move"), "remove": ("제거", "remove")}
STYLE = """
body{font-family:"Noto Sans KR","Malgun Gothic",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#1b1b1b;overflow-wrap:anywhere}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{font-size:1.3rem;border-bottom:1px solid #ccc;margin-top:2rem}
.sub{color:#555;margin-top:0}.text{white-space:pre-wrap}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}td.num{text-align:right}
.better{color:#1a7f37}.worse{color:#b42318}li.comment{margin-bottom:.8rem}.who{font-weight:bold}
.when{color:#666;font-size:.9rem}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'none'"


def _t(lang: str, key: str) -> str:
    return WORDS["ko" if lang == "ko" else "en"][key]


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "ko" else pair[1]


def _text(value: Any) -> str:
    """A value as escaped HTML text."""
    return escape("" if value is None else str(value), quote=True)


def _when(stamp: Any) -> str:
    """A stored UTC time ``2026-05-01T09:30:00Z`` as ``2026-05-01 09:30 UTC`` (anything else as given)."""
    text = str(stamp or "")
    return f"{text[:10]} {text[11:16]} UTC" if len(text) == 20 and text.endswith("Z") else text


def _number(x: Any) -> str:
    """A KPI value for the table (up to 3 significant decimals), or a dash where it does not exist."""
    if x is None or isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return "—"
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def proposal_html(proposal: dict[str, Any], lang: str,
                  place_names: Mapping[tuple[str, str], str] | None = None) -> str:
    """The page of ``proposal`` (a :meth:`ProposalStore.get` dict) in ``lang`` ("ko" or "en"):
    complete HTML, every user text escaped, no script. ``place_names`` ((kind, id) -> name) names
    the places of per-place KPIs and, as ("device", id), the devices the patch moves or removes
    (:func:`place_names_of` reads them from a dataset); without a name the id is shown."""
    lang = "ko" if lang == "ko" else "en"
    title = proposal.get("title_ko") if lang == "ko" else proposal.get("title_en")
    other = proposal.get("title_en") if lang == "ko" else proposal.get("title_ko")
    description = proposal.get("description_ko") if lang == "ko" else proposal.get("description_en")
    status = _pick(STATUS_WORDS.get(str(proposal.get("status")), (str(proposal.get("status")),) * 2), lang)
    numbers: dict[str, int] = {}  # pseudonyms, the author's first (as the open data numbers them)
    author = str(proposal.get("author"))
    if not proposal.get("author_public"):
        author = f"{_t(lang, 'participant')} {numbers.setdefault(author, 1)}"
    parts = [
        "<!DOCTYPE html>", f'<html lang="{lang}">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_t(lang, 'proposal_word')}: {_text(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        f"<h1>{_text(title)}</h1>", f'<p class="sub">{_text(other)}</p>',
        f"<p><b>{_t(lang, 'author')}</b>: {_text(author)} · <b>{_t(lang, 'status')}</b>: "
        f"{_text(status)} · <b>{_t(lang, 'created')}</b>: {_text(_when(proposal.get('created_at')))}</p>",
    ]
    if description:
        parts += [f"<h2>{_t(lang, 'description')}</h2>", f'<p class="text">{_text(description)}</p>']
    parts += _change_html(proposal, lang, {pid: name for (kind, pid), name in (place_names or {}).items()
                                           if kind == "device"})
    parts += _evaluation_html(proposal.get("evaluations") or [], lang, place_names or {})
    parts += _feedback_html(proposal, lang, numbers)
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _change_html(proposal: dict[str, Any], lang: str, device_names: Mapping[str, str]) -> list[str]:
    """The scenario (file name only), overrides lines and the device patch in words."""
    from pathlib import PurePath

    scenario = PurePath(str(proposal.get("scenario") or "")).name
    out = [f"<h2>{_t(lang, 'change')}</h2>", f"<p><b>{_t(lang, 'scenario')}</b>: {_text(scenario)}</p>",
           f"<p><b>{_t(lang, 'overrides')}</b>:</p>"]
    overrides = list(proposal.get("overrides") or [])
    out.append("<ul>" + "".join(f"<li><code>{_text(o)}</code></li>" for o in overrides) + "</ul>"
               if overrides else f"<p>{_t(lang, 'none')}</p>")
    lines = patch_words(proposal.get("dataset_patch") or {}, lang, device_names)
    out.append(f"<p><b>{_t(lang, 'devices')}</b>:</p>")
    out.append("<ul>" + "".join(f"<li>{_text(line)}</li>" for line in lines) + "</ul>"
               if lines else f"<p>{_t(lang, 'none')}</p>")
    return out


def patch_words(patch: dict[str, Any], lang: str, names: Mapping[str, str] | None = None) -> list[str]:
    """A dataset patch as plain sentences (unescaped text), one per device change, e.g.
    ``CCTV "신곡교 CCTV" 추가: 127.04600, 37.74500 (WGS84)``; a device the patch does not name is
    called by ``names`` (device id -> name), else by its id."""
    names = names or {}
    devices = patch.get("devices") if isinstance(patch, dict) else None
    if not isinstance(devices, dict):
        return []
    out = []
    for op in ("add", "move", "remove"):
        items = devices.get(op) or []
        for item in items if isinstance(items, list) else []:
            info = item if isinstance(item, dict) else {"device_id": item}
            kind = info.get("kind")
            kind_word = _pick(KIND_WORDS[kind], lang) if kind in KIND_WORDS else ("시설" if lang == "ko" else "device")
            name = info.get("name") or names.get(str(info.get("device_id"))) or info.get("device_id") or "?"
            where = ""
            if isinstance(info.get("lon"), int | float) and isinstance(info.get("lat"), int | float):
                where = f": {float(info['lon']):.5f}, {float(info['lat']):.5f} (WGS84)"
            verb = _pick(OPERATION_WORDS[op], lang)
            out.append(f"{kind_word} \u201c{name}\u201d {verb}{where}" if lang == "ko"
                       else f"{verb.capitalize()} {kind_word} \u201c{name}\u201d{where}")
    return out


def _evaluation_html(evaluations: list[dict[str, Any]], lang: str,
                     place_names: Mapping[tuple[str, str], str]) -> list[str]:
    """The latest evaluation: the run-wide KPIs, then the places whose result changed (baseline vs
    proposal, better/worse), and how many places kept theirs."""
    from ..ensemble.kpis import place_of

    out = [f"<h2>{_t(lang, 'evaluation')}</h2>"]
    if not evaluations:
        return out + [f"<p>{_t(lang, 'no_evaluation')}</p>"]
    kpis = evaluations[-1].get("kpis") or {}
    base, prop = kpis.get("baseline") or {}, kpis.get("proposal") or {}
    if evaluations[-1].get("kind") == "sweep":
        n_base, n_prop = kpis.get("baseline_runs", "?"), kpis.get("proposal_runs", "?")
        out.append(f"<p>{_t(lang, 'sweep').format(base=_text(n_base), proposal=_text(n_prop))}</p>")
    columns = sorted(set(base) | set(prop))
    whole = [c for c in columns if place_of(c) is None]  # the run's own figures, all of them
    places = [c for c in columns if place_of(c) is not None]
    changed = [c for c in places if base.get(c) != prop.get(c)]  # of the places, only what differs
    out += _kpi_table(whole, base, prop, lang, place_names)
    out.append(f"<h3>{_t(lang, 'places')}</h3>")
    out += _kpi_table(changed, base, prop, lang, place_names) if changed else [f"<p>{_t(lang, 'no_place')}</p>"]
    unchanged = len({place_of(c) for c in places} - {place_of(c) for c in changed})
    if unchanged:
        out.append(f"<p>{_t(lang, 'unchanged').format(n=unchanged)}</p>")
    return out


def _kpi_table(columns: list[str], base: Mapping[str, Any], prop: Mapping[str, Any], lang: str,
               place_names: Mapping[tuple[str, str], str]) -> list[str]:
    """KPI rows baseline vs proposal, better/worse; a place by its name (its id in the tooltip)."""
    from ..ensemble.kpis import measure_of, place_of

    out = ["<table>", f"<tr><th>{_t(lang, 'measure')}</th><th>{_t(lang, 'unit')}</th>"
           f"<th>{_t(lang, 'baseline')}</th><th>{_t(lang, 'proposal')}</th><th>{_t(lang, 'verdict')}</th></tr>"]
    for column in columns:
        m = measure_of(column)
        words = (m.ko if lang == "ko" else m.en) if m else column
        place = place_of(column)
        if place is not None:
            kind, pid = place
            kind_word = _pick(KIND_WORDS[kind], lang) if kind in KIND_WORDS else kind
            words += f" — {kind_word} {place_names.get(place, pid)}"
        b, p = base.get(column), prop.get(column)
        mark = _verdict(b, p, m.better if m else None)
        cls = f' class="{mark}"' if mark in ("better", "worse") else ""
        out.append(f'<tr><td title="{_text(column)}">{_text(words)}</td><td>{_text(m.unit if m else "")}</td>'
                   f'<td class="num">{_number(b)}</td><td class="num">{_number(p)}</td>'
                   f"<td{cls}>{_t(lang, mark) if mark else ''}</td></tr>")
    out.append("</table>")
    return out


def _verdict(baseline: Any, proposal: Any, better: str | None) -> str:
    """"better", "worse", "same" for the proposal against the baseline, or "" when not comparable."""
    ok = all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in (baseline, proposal))
    if not ok or better not in ("lower", "higher"):
        return ""
    if proposal == baseline:
        return "same"
    return "better" if (proposal < baseline) == (better == "lower") else "worse"


def _feedback_html(proposal: dict[str, Any], lang: str, numbers: dict[str, int]) -> list[str]:
    """Votes and comments; names only where their writer consented, else a pseudonym (``numbers``:
    person -> pseudonym number, shared with the author's)."""
    out = [f"<h2>{_t(lang, 'votes')}</h2>",
           f"<p>{_t(lang, 'for')} {int(proposal.get('votes_for') or 0)} · "
           f"{_t(lang, 'against')} {int(proposal.get('votes_against') or 0)}</p>",
           f"<h2>{_t(lang, 'comments')}</h2>"]
    comments = proposal.get("comments") or []
    if not comments:
        return out + [f"<p>{_t(lang, 'no_comments')}</p>"]
    out.append("<ul>")
    for c in comments:
        who = str(c.get("participant"))
        if not c.get("public_name"):
            who = f"{_t(lang, 'participant')} {numbers.setdefault(who, len(numbers) + 1)}"
        out.append(f'<li class="comment"><span class="who">{_text(who)}</span> '
                   f'<span class="when">{_text(_when(c.get("created_at")))}</span>'
                   f'<div class="text">{_text(c.get("text"))}</div></li>')
    out.append("</ul>")
    return out


def place_names_of(dataset: str | Path, lang: str) -> dict[tuple[str, str], str]:
    """Names of a dataset's places for a report, read from its layers (no city is built): devices
    by their ``name`` (as ("device", id), and gauges and gates also as ("gauge", id), ("gate", id)),
    access points as their stream, bank and distance along it (``중랑천 좌안 0.8 km``)."""
    from .patch import layer_collection

    out: dict[tuple[str, str], str] = {}
    for f in layer_collection(Path(dataset), "devices")["features"]:
        p = f.get("properties") or {}
        did, name = str(p.get("device_id")), p.get("name")
        if isinstance(name, str) and name:
            out[("device", did)] = name
            kind = {"level_sensor": "gauge", "gate": "gate"}.get(str(p.get("kind")))
            if kind:
                out[(kind, did)] = name
    banks = {"left": ("좌안", "left bank"), "right": ("우안", "right bank")}
    for f in layer_collection(Path(dataset), "access_points")["features"]:
        p = f.get("properties") or {}
        stream = p.get("stream") if lang == "ko" else (p.get("stream_en") or p.get("stream"))
        bank = _pick(banks[p["bank"]], lang) if p.get("bank") in banks else ""
        km = p.get("chainage_m")
        at = f" {float(km) / 1000:.1f} km" if isinstance(km, int | float) else ""
        if stream:
            out[("access_point", str(p.get("access_id")))] = f"{stream} {bank}{at}".replace("  ", " ").strip()
    return out
