"""The proposals page of the workshop: the living-lab proposals kept in the proposals database
(:mod:`twin.proposals.store`), listed, filtered and opened; an opened proposal says what it changes in
words, shows its latest evaluation (plain-language KPIs marked better or worse, and the baseline and
proposal maps side by side when both run folders are on this machine), and takes comments and votes.
A facilitator changes its status; a change made meanwhile by someone else is refused and reloaded
(the store's optimistic locking).

Everything people typed (titles, descriptions, names, comments) is shown as text: through
:func:`twin.app.widgets.md_text` in markdown, or in a data frame (never HTML). Proposals are shown by
title, people by name, places by name; numbers and IDs only in tooltips (``help=``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit

from .i18n import t
from .proposals_words import (
    change_lines,
    comment_name,
    description_of,
    kpi_rows,
    status_word,
    title_of,
    verdict_word,
    w,
    when,
)
from .widgets import md_text, translated_select

WORKSHOP_PAGES = ("proposals", "facilitator")  # the workshop's pages (url paths), after twin.app.pages.PAGES
MSG_KEY = "prop_msg"  # session key: the message a callback leaves for the next draw: (block, kind, text)
PARTICIPANT_KEY = "participant"  # session key of the participant's name (the box on the page)
NAME_KEY = "participant_name"  # the name kept when the page is left (a widget's own key is dropped then)
PLACES_SHOWN = 10  # places whose result changed, listed before "and N more"
HOW_TO_NEW = ('twin proposal new --title-ko "..." --title-en "..." --author "..." '
              "scenarios/flash_flood_jungnangcheon.yaml --set crowd.evacuation_trigger=attention")  # fmt: skip


# --- the store ---------------------------------------------------------------------------------------
@streamlit.cache_resource(show_spinner=False, max_entries=4)
def _store_at(url: str):
    """One :class:`~twin.proposals.store.ProposalStore` per database URL, shared by every session."""
    from ..proposals.store import open_store

    return open_store(url)


def cached_store(url: str | None = None):
    """The proposals store at ``url`` (default: ``TWIN_DB_URL``, else the SQLite file in
    ``$TWIN_DATA_DIR``), opened once per process; None after logging why it cannot be opened."""
    from ..errors import TwinError
    from ..proposals.store import default_url

    try:
        return _store_at(url or default_url())
    except TwinError:
        logging.getLogger(__name__).exception("the proposals database cannot be opened")
        return None


def runs_dir(data: Path | None = None) -> Path:
    """Where evaluations keep their run folders: ``<data folder>/runs`` (default
    :func:`twin.proposals.store.data_dir`)."""
    from ..proposals.store import data_dir

    return Path(data if data is not None else data_dir()) / "runs"


def device_kinds(city: Any) -> dict[str, str]:
    """The kind of each device of ``city`` (device id -> cctv, gate, ...), {} without devices."""
    if city is None or "devices" not in getattr(city, "layers", {}):
        return {}
    dv = city.layer("devices")
    return dict(zip(dv["device_id"].astype(str), dv["kind"].astype(str), strict=True))


def names_or_none(city: Any) -> Any:
    """The city's :class:`~twin.app.names.Names`, None without a city."""
    if city is None:
        return None
    from .form_inputs import names_of

    return names_of(city)


def show_message(st, where: str) -> None:
    """The message a callback left for the block ``where`` (vote, comment, status), shown once, there."""
    found = st.session_state.get(MSG_KEY)
    if not found or found[0] != where:
        return
    del st.session_state[MSG_KEY]
    _, kind, text = found
    getattr(st, kind if kind in ("success", "warning", "error", "info") else "info")(text)


def _say(st, where: str, kind: str, text: str) -> None:
    st.session_state[MSG_KEY] = (where, kind, text)




def _problems(exc: Exception) -> str:
    """An error's lines as escaped markdown bullets."""
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()] or [type(exc).__name__]
    return "\n".join(f"- {md_text(x)}" for x in lines)


# --- the list ----------------------------------------------------------------------------------------
def matches(row: dict[str, Any], status: str, search: str) -> bool:
    """Whether a proposal summary passes the filter: its status (``all`` passes all) and the search
    text in either title or the author (case-insensitive)."""
    if status != "all" and row.get("status") != status:
        return False
    needle = search.strip().casefold()
    if not needle:
        return True
    hay = " ".join(str(row.get(k) or "") for k in ("title_ko", "title_en", "author")).casefold()
    return needle in hay


def list_table(rows: list[dict[str, Any]], lang: str):
    """The list as a data frame: title (in ``lang``), author, status in words, votes for and against,
    number of comments; columns named in ``lang``. Cells are plain text (a data frame renders no
    markdown or HTML)."""
    import pandas as pd

    cols = [w(k, lang) for k in ("col_title", "col_author", "col_status", "col_for", "col_against", "col_comments")]
    data = [[title_of(r, lang), str(r.get("author") or ""), status_word(str(r.get("status")), lang),
             int(r.get("votes_for", 0)), int(r.get("votes_against", 0)), int(r.get("n_comments", 0))]
            for r in rows]  # fmt: skip
    return pd.DataFrame(data, columns=cols)


def participant_box(st, lang: str) -> str:
    """The participant's name for this session (needed to vote), kept in ``st.session_state`` also
    while another page is shown (Streamlit forgets a widget's value when it is not drawn)."""
    ss = st.session_state
    if PARTICIPANT_KEY not in ss:
        ss[PARTICIPANT_KEY] = ss.get(NAME_KEY, "")
    name = str(st.text_input(w("participant", lang), key=PARTICIPANT_KEY, max_chars=100,
                             help=w("participant_help", lang)) or "").strip()  # fmt: skip
    ss[NAME_KEY] = name
    return name


def _pick(st, lang: str, rows: list[dict[str, Any]]) -> int | None:
    """The status filter, the search box, the list, and the proposal chosen to open (its id)."""
    from ..proposals.records import STATUSES

    a, b = st.columns([1, 2])
    options = ["all", *STATUSES]
    status = translated_select(st, a, w("status_filter", lang), options, key="prop_status", lang=lang,
                               default="all", format_func=lambda s: w("all", lang) if s == "all"
                               else status_word(s, lang))  # fmt: skip
    search = str(b.text_input(w("search", lang), key="prop_search") or "")
    shown = [r for r in rows if matches(r, str(status), search)]
    st.caption(w("count", lang).format(n=len(shown)))
    if not shown:
        st.info(w("no_match", lang))
        return None
    st.dataframe(list_table(shown, lang), hide_index=True)
    titles = {int(r["id"]): title_of(r, lang) for r in shown}
    ids = list(titles)
    chosen = st.session_state.get("prop_open")
    pid = translated_select(st, st, w("open", lang), ids, key="prop_open", lang=lang,
                            default=chosen if chosen in ids else ids[0], format_func=titles.__getitem__,
                            help=w("open_help", lang).format(id=chosen if chosen in ids else ids[0]))  # fmt: skip
    return int(pid)


# --- one proposal -------------------------------------------------------------------------------------
def changes_block(st, p: dict[str, Any], lang: str, names: Any, kinds: dict[str, str]) -> None:
    """What the proposal changes, one line each, and the scenario it starts from (by name)."""
    from .names import scenario_label
    from .widgets import SCENARIOS

    lines = change_lines(p, lang, names, kinds)
    body = "\n".join(f"- {md_text(x)}" for x in lines) or md_text(w("no_change", lang))
    st.markdown(f"**{w('changes', lang)}**\n\n{body}")
    scenario = Path(str(p.get("scenario") or ""))
    found = scenario if scenario.is_file() else SCENARIOS / scenario.name
    if found.is_file():
        st.caption(md_text(w("scenario", lang).format(name=scenario_label(found, lang))))


def kpi_table(rows: list[dict[str, Any]], lang: str):
    """Rows of :func:`twin.app.proposals_words.kpi_rows` as a data frame (measure, baseline, proposal,
    verdict in words, columns named in ``lang``), coloured by the verdict."""
    import pandas as pd

    from .kpis import compare_styler

    cols = [w("measure", lang), t("baseline", lang), t("proposal", lang), t("verdict", lang)]
    df = pd.DataFrame([[r["label"], r["baseline"], r["proposal"], verdict_word(r["verdict"], lang)] for r in rows],
                      columns=cols)  # fmt: skip
    return compare_styler(df)


def latest_evaluation(p: dict[str, Any]) -> dict[str, Any] | None:
    """The proposal's newest evaluation, None without one."""
    evs = p.get("evaluations") or []
    return evs[-1] if evs else None


def evaluation_folders(ev: dict[str, Any], data: Path | None = None) -> tuple[Path, Path] | None:
    """The baseline's and the proposal's run folders of an evaluation, None unless both are here."""
    root = runs_dir(data)
    keys = (str(ev.get("baseline_key") or ""), str(ev.get("proposal_key") or ""))
    if not all(k and "/" not in k and "\\" not in k and k not in (".", "..") for k in keys):
        return None
    folders = (root / keys[0], root / keys[1])
    return folders if all((f / "summary.json").is_file() for f in folders) else None


@streamlit.cache_resource(show_spinner=False, max_entries=4)
def _read_run(folder: str, stamp: tuple):
    """A run folder read once per content stamp (:func:`twin.app.caches.folder_stamp`)."""
    from ..results import read_run_folder

    return read_run_folder(folder)


def read_run(folder: Path):
    """The :class:`~twin.results.RunData` of ``folder``, from the cache while the folder is unchanged."""
    from .caches import folder_stamp

    return _read_run(str(folder), folder_stamp(folder))


def evaluation_block(st, city, p: dict[str, Any], lang: str, names: Any, *, living_lab: bool,
                     data: Path | None = None) -> None:  # fmt: skip
    """The latest evaluation: the run-wide KPIs in words marked better/worse, the places whose result
    changed, and the side-by-side comparison (maps, stage charts) when both run folders are here."""
    st.subheader(w("evaluation", lang))
    ev = latest_evaluation(p)
    if ev is None:
        st.info(w("not_evaluated", lang))
        st.code(f"twin proposal evaluate {int(p['id'])}", language="bash")
        return
    if ev.get("created_at"):
        st.caption(w("evaluated_at", lang).format(date=when(ev.get("created_at"), lang)))
    kpis = ev.get("kpis") or {}
    rows = kpi_rows(kpis, lang, names)
    if rows:
        st.dataframe(kpi_table(rows, lang), hide_index=True)
    changed = kpi_rows(kpis, lang, names, places=True)
    if changed:
        said = [w("place_line", lang).format(place=r["place"], measure=r["measure"], a=r["baseline"],
                                            b=r["proposal"]) for r in changed]  # fmt: skip
        lines = [f"- {md_text(x)} ({verdict_word(r['verdict'], lang)})" for x, r in zip(said, changed, strict=True)]
        st.markdown(f"**{w('places_changed', lang)}**\n\n" + "\n".join(lines[:PLACES_SHOWN]))
        if len(lines) > PLACES_SHOWN:  # a storm can change a hundred places: the rest on demand
            with st.expander(w("more_places", lang).format(n=len(lines) - PLACES_SHOWN)):
                st.markdown("\n".join(lines[PLACES_SHOWN:]))
    else:
        st.caption(w("no_place_changed", lang))
    if ev.get("kind") == "sweep":  # no single run to map: the figures are the sweep's means
        st.caption(w("sweep_mean", lang).format(a=kpis.get("baseline_runs", "?"), b=kpis.get("proposal_runs", "?")))
        return
    folders = evaluation_folders(ev, data)
    if folders is None or city is None:
        st.info(w("runs_missing", lang))
        return
    try:
        from .compare_view import compare_results

        base_run, prop_run = read_run(folders[0]), read_run(folders[1])
        st.markdown(f"**{w('side_by_side', lang)}**")
        compare_results(st, city, base_run, prop_run, lang, living_lab=living_lab)
    except Exception as exc:  # run folders are data from disk: the page must survive them
        logging.getLogger(__name__).exception("cannot show the evaluation's runs %s", folders)
        st.error(t("cannot_show", lang).format(folder=folders[1].name, what=type(exc).__name__))


def _vote(st, store, pid: int, value: int, lang: str) -> None:
    """Callback of the vote buttons: the participant's vote, or why not."""
    from ..errors import ProposalError, TwinError

    name = str(st.session_state.get(PARTICIPANT_KEY) or "").strip()
    if not name:
        _say(st, "vote", "warning", w("need_name", lang))
        return
    try:
        store.vote(pid, participant=name, value=value)
    except ProposalError as exc:
        gone = any(x.endswith("no such proposal") for x in exc.problems)
        _say(st, "vote", "error", w("gone", lang) if gone else f"**{t('invalid', lang)}**\n\n{_problems(exc)}")
        return
    except TwinError as exc:
        _say(st, "vote", "error", f"**{t('invalid', lang)}**\n\n{_problems(exc)}")
        return
    _say(st, "vote", "success", md_text(w("voted", lang).format(name=name)))


def votes_block(st, store, p: dict[str, Any], lang: str) -> None:
    """The tally and the two vote buttons (the participant's name from the box is required)."""
    pid = int(p["id"])
    a, b, c = st.columns([2, 1, 1])
    a.markdown(f"**{w('votes', lang).format(f=int(p['votes_for']), a=int(p['votes_against']))}**")
    b.button(w("vote_for", lang), key=f"prop_vote_for:{pid}", on_click=_vote, args=(st, store, pid, 1, lang))
    c.button(w("vote_against", lang), key=f"prop_vote_against:{pid}", on_click=_vote,
             args=(st, store, pid, -1, lang))  # fmt: skip
    show_message(st, "vote")


def _comment(st, store, pid: int, lang: str) -> None:
    """Callback of the comment form: store the comment, empty the text box; or say why not."""
    from ..errors import TwinError

    ss = st.session_state
    name = str(ss.get(f"prop_c_name:{pid}") or "").strip() or str(ss.get(PARTICIPANT_KEY) or "").strip()
    text = str(ss.get(f"prop_c_text:{pid}") or "")
    if not name or not text.strip():
        _say(st, "comment", "warning", w("need_comment", lang))
        return
    try:
        store.comment(pid, participant=name, text=text, public_name=bool(ss.get(f"prop_c_public:{pid}")))
    except TwinError as exc:
        _say(st, "comment", "error", f"**{t('invalid', lang)}**\n\n{_problems(exc)}")
        return
    ss[f"prop_c_text:{pid}"] = ""
    _say(st, "comment", "success", w("commented", lang))


def comments_block(st, store, p: dict[str, Any], lang: str, participant: str) -> None:
    """The comments (oldest first; a name only when its writer agreed to publish it) and the form."""
    pid = int(p["id"])
    st.subheader(w("comments", lang))
    comments = p.get("comments") or []
    if not comments:
        st.caption(w("no_comments", lang))
    for c in comments:
        head = w("comment_head", lang).format(name=comment_name(c, lang), date=when(c.get("created_at"), lang))
        st.markdown(f"**{md_text(head)}**\n\n{md_text(str(c.get('text') or ''))}")
    with st.form(f"prop_comment_form:{pid}"):
        st.markdown(f"**{w('comment_form', lang)}**")
        if f"prop_c_name:{pid}" not in st.session_state and participant:
            st.session_state[f"prop_c_name:{pid}"] = participant
        st.text_input(w("comment_name", lang), key=f"prop_c_name:{pid}", max_chars=100)
        st.text_area(w("comment_text", lang), key=f"prop_c_text:{pid}", max_chars=2000)
        st.checkbox(w("publish_name", lang), key=f"prop_c_public:{pid}")
        st.caption(w("open_data_notice", lang))
        st.form_submit_button(w("send", lang), on_click=_comment, args=(st, store, pid, lang))
    show_message(st, "comment")


def _save_status(st, store, pid: int, lang: str) -> None:
    """Callback of the facilitator's save: the new status, from the version this session last saw;
    a conflict (someone changed it meanwhile) is said, and the page reloads the proposal."""
    from ..errors import ProposalConflict, TwinError

    ss = st.session_state
    status = ss.get(f"prop_new_status:{pid}")
    version = ss.pop(f"prop_version:{pid}", None) or ss.get(f"prop_shown_version:{pid}")
    try:
        store.update(pid, version=int(version), status=str(status))
    except ProposalConflict:
        _say(st, "status", "warning", w("conflict", lang))
        return
    except (TwinError, TypeError, ValueError) as exc:
        _say(st, "status", "error", f"**{t('invalid', lang)}**\n\n{_problems(exc)}")
        return
    _say(st, "status", "success", w("saved", lang).format(status=status_word(str(status), lang)))


def _began_change(st, pid: int) -> None:
    """Callback of the status select: the change starts from the version shown when it was picked
    (a pick reruns the page, which shows the newest version; a save must not start from that)."""
    ss = st.session_state
    ss.setdefault(f"prop_version:{pid}", ss.get(f"prop_shown_version:{pid}"))


def facilitator_allowed(st, lang: str) -> bool:
    """Whether this session may decide: always, unless ``TWIN_FACILITATOR_CODE`` is set; then only
    once the code is typed (a workshop that serves the app to the room keeps decisions with its
    facilitator)."""
    import hmac
    import os

    code = os.environ.get("TWIN_FACILITATOR_CODE", "")
    if not code:
        return True
    typed = st.text_input(w("facilitator_code", lang), type="password", key="facilitator_code")
    return bool(typed) and hmac.compare_digest(str(typed).encode(), code.encode())


def status_block(st, store, p: dict[str, Any], lang: str) -> None:
    """The facilitator's status change: a select of the statuses in words and a save button. The
    save refuses a proposal changed by someone else since the status was picked (its version)."""
    from ..proposals.records import STATUSES

    pid = int(p["id"])
    st.session_state[f"prop_shown_version:{pid}"] = int(p["version"])  # the version this run shows
    with st.expander(w("facilitator", lang)):
        if not facilitator_allowed(st, lang):
            return
        current = str(p["status"])
        st.selectbox(w("new_status", lang), list(STATUSES), index=list(STATUSES).index(current)
                     if current in STATUSES else 0, key=f"prop_new_status:{pid}",
                     format_func=lambda s: status_word(s, lang), on_change=_began_change,
                     args=(st, pid))  # fmt: skip
        st.button(w("save", lang), key=f"prop_save_status:{pid}", on_click=_save_status, args=(st, store, pid, lang))
        show_message(st, "status")


def report_names(p: dict[str, Any], lang: str, names: Any) -> dict[tuple[str, str], str]:
    """The names the report gives the places of the proposal's latest evaluation and the devices of
    its patch (the app's names, as the page shows them)."""
    from ..ensemble.kpis import place_of

    if names is None:
        return {}
    ev = latest_evaluation(p) or {}
    kpis = ev.get("kpis") or {}
    places = {place_of(c) for side in ("baseline", "proposal") for c in (kpis.get(side) or {})} - {None}
    out = {place: names.entity(place[1], lang) for place in places if place is not None}
    devices = (p.get("dataset_patch") or {}).get("devices") or {}
    for op, items in devices.items() if isinstance(devices, dict) else ():
        for item in items if isinstance(items, list) else []:
            did = item if op == "remove" else (item.get("device_id") if isinstance(item, dict) else None)
            if isinstance(did, str):
                out[("device", did)] = names.entity(did, lang)
    return out


def report_button(st, p: dict[str, Any], lang: str, names: Any = None) -> None:
    """The proposal's HTML report (twin.proposals.report.proposal_html) as a download."""
    try:
        from ..proposals.report import proposal_html  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        st.caption(w("no_report", lang))
        return
    try:
        html = proposal_html(p, lang, place_names=report_names(p, lang, names))
    except Exception:  # a report is an extra: the page stays usable without it
        logging.getLogger(__name__).exception("the report of proposal %s failed", p.get("id"))
        st.caption(w("no_report", lang))
        return
    st.download_button(w("report", lang), str(html).encode("utf-8"), file_name=f"proposal_{int(p['id'])}_{lang}.html",
                       mime="text/html", on_click="ignore", key=f"prop_report:{p['id']}")  # fmt: skip


def proposal_detail(st, city, store, p: dict[str, Any], lang: str, participant: str, *, living_lab: bool = False,
                    data: Path | None = None) -> None:  # fmt: skip
    """One proposal: title, author and status, description, its change in words, votes, the latest
    evaluation, the report, the comments and the facilitator's status change."""
    names = names_or_none(city)
    st.subheader(md_text(title_of(p, lang)))
    st.caption(md_text(w("by", lang).format(author=p.get("author") or "", status=status_word(str(p["status"]), lang),
                                            date=when(p.get("created_at"), lang))))  # fmt: skip
    desc = description_of(p, lang)
    if desc.strip():
        st.markdown(md_text(desc))
    changes_block(st, p, lang, names, device_kinds(city))
    votes_block(st, store, p, lang)
    evaluation_block(st, city, p, lang, names, living_lab=living_lab, data=data)
    report_button(st, p, lang, names)
    comments_block(st, store, p, lang, participant)
    status_block(st, store, p, lang)


def listed(st, store, lang: str) -> list[dict[str, Any]] | None:
    """Every proposal's summary (newest first); None, after saying so, when the database fails (a
    PostgreSQL server stopped, say: the details go to the server's log)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..errors import TwinError

    try:
        return list(store.proposals())
    except (SQLAlchemyError, TwinError):
        logging.getLogger(__name__).exception("the proposals database failed")
        st.error(w("store_error", lang))
        return None


def proposals_page(st, city, lang: str, store, *, living_lab: bool = False, data: Path | None = None) -> None:
    """The proposals page: the participant's name, the list with its filters, and the chosen proposal
    (``store``: a ProposalStore, None when the database cannot be opened)."""
    from ..errors import TwinError

    st.header(t("page_proposals", lang))
    if store is None:
        st.error(w("store_error", lang))
        return
    participant = participant_box(st, lang)
    rows = listed(st, store, lang)
    if rows is None:
        return
    if not rows:
        st.info(w("none", lang))
        st.code(HOW_TO_NEW, language="bash")
        return
    pid = _pick(st, lang, rows)
    if pid is None:
        return
    try:
        p = store.get(pid)
    except TwinError:  # removed meanwhile
        st.info(w("no_match", lang))
        return
    proposal_detail(st, city, store, p, lang, participant, living_lab=living_lab, data=data)

