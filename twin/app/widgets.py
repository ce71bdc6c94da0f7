"""Controls the app's pages share: pickers that show names (scenarios by their ``name``), lists
whose labels follow the language, the run with its progress bar, and errors shown one per line.

Each takes the streamlit module (or a container) as ``st``; the tests call them with AppTest.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..resources import shipped_scenarios
from .i18n import t

SCENARIOS = shipped_scenarios()
POLICIES = SCENARIOS / "policies"


def translated_radio(st, where, label: str, options, *, key: str, lang: str, default, format_func, **kw):
    """A radio whose option labels change with the language. Streamlit keeps a radio's choice by
    its label text, so a language switch would reset it: each language gets its own widget
    (``key:lang``) and the choice is carried across in ``st.session_state[key]``."""
    return _translated(st, where.radio, label, options, key, lang, default, format_func, kw)


def translated_select(st, where, label: str, options, *, key: str, lang: str, default, format_func, **kw):
    """A select box whose option labels change with the language, its choice kept across a
    language switch like :func:`translated_radio`'s."""
    return _translated(st, where.selectbox, label, options, key, lang, default, format_func, kw)


def _translated(st, widget, label: str, options, key: str, lang: str, default, format_func, kw: dict):
    options = list(options)
    chosen = st.session_state.get(key, default)
    value = widget(
        label,
        options,
        index=options.index(chosen) if chosen in options else options.index(default),
        key=f"{key}:{lang}",
        format_func=format_func,
        **kw,
    )
    st.session_state[key] = value
    return value


def scenario_files() -> list[Path]:
    """Scenario files a planner can pick: the city's and the smart gates' (the verification
    geometries are left out)."""
    return sorted(SCENARIOS.glob("*.yaml")) + sorted((SCENARIOS / "gates").glob("*.yaml"))


def translated_multiselect(st, label: str, options, *, key: str, lang: str, default, format_func, **kw):
    """A multiselect whose option labels change with the language, its choice kept across a
    language switch in ``st.session_state[key]``."""
    options = list(options)
    chosen = [x for x in st.session_state.get(key, default) if x in options]
    value = st.multiselect(label, options, default=chosen, key=f"{key}:{lang}", format_func=format_func, **kw)
    st.session_state[key] = list(value)
    return list(value)


def pick_scenario(st, lang: str, key: str, default: str = "flash_flood_jungnangcheon.yaml") -> Path:
    """A select box of the shipped scenarios, each shown by its ``name`` in ``lang``; returns the
    chosen file. The choice is kept in ``st.session_state[key]`` as the file's path relative to
    the scenarios folder (a run folder opened from disk sets it there)."""
    from .names import scenario_label

    names = [f.relative_to(SCENARIOS).as_posix() for f in scenario_files()]
    labels = {n: scenario_label(SCENARIOS / n, lang) for n in names}
    name = translated_select(
        st, st, t("scenario", lang), names, key=key, lang=lang, default=default, format_func=labels.__getitem__
    )
    return SCENARIOS / name


def refused_overrides(st, lines: list[str], lang: str) -> bool:
    """Show one message per override that would make the server read a typed path (see
    :mod:`twin.app.overrides`); True when there was any (then nothing is run)."""
    from .overrides import browser_override_problems, path_field_of

    problems = browser_override_problems(lines)
    for line, problem in zip([x for x in lines if path_field_of(x)], problems, strict=True):
        hint = t(f"hint_{path_field_of(line)}", lang)
        st.error(t("path_refused", lang).format(problem=problem, hint=hint))
    return bool(problems)


def rain_upload(st, store, lang: str, key: str) -> list[str] | None:
    """An upload of recorded rain (CSV ``time,gauge_id,mm``), kept by the run store; the
    overrides that run with it, or None without one."""
    from ..errors import TwinError

    up = st.file_uploader(t("rain_upload", lang), type=["csv"], key=key, accept_multiple_files=False)
    if up is None or store is None:
        return None
    try:
        saved = store.save_upload(up.name, up.getvalue())
    except TwinError as exc:
        show_error(st, lang, exc)
        return None
    return ["rainfall.kind=observed", f"rainfall.csv={saved}"]


def policy_pick(st, base, lang: str, key: str) -> list[str]:
    """A select box of the project's gate policies (scenarios/policies/) for a scenario with a
    gate controller; the override when another one is chosen."""
    if base.controller is None:
        return []
    files = sorted(POLICIES.glob("*.yaml"))
    if not files:
        return []
    current = base.resolve_path(base.controller.policy)
    names = [f.name for f in files]
    index = next((i for i, f in enumerate(files) if f.resolve() == current.resolve()), 0)
    name = st.selectbox(t("policy_pick", lang), names, index=index, key=key, format_func=policy_label)
    chosen = POLICIES / name
    return [] if chosen.resolve() == current.resolve() else [f"controller.policy={chosen}"]


def policy_label(file_name: str) -> str:
    """A policy file's name as words: ``reference_gates.yaml`` -> "reference gates" (the same in
    both languages; a policy is known by its file to those who write them)."""
    return Path(file_name).stem.replace("_", " ")


def _progress_bar(st, lang: str):
    bar = st.progress(0.0, text=t("running", lang))
    last = [-1]

    def update(done: float, total: float) -> None:
        pct = int(100 * done / total) if total else 100
        if pct != last[0]:
            last[0] = pct
            bar.progress(
                min(pct, 100) / 100, text=t("progress", lang).format(done=int(done / 60), total=int(total / 60))
            )

    return bar, update


def show_error(st, lang: str, exc: Exception) -> None:
    """One error box for a refused input: its problems one per line (a ScenarioError holds one
    problem per line, and markdown would run them together), each shown as text, not markdown."""
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()] or [type(exc).__name__]
    body = "\n".join(f"- {md_text(x)}" for x in lines)
    st.error(f"**{t('invalid', lang)}**\n\n{body}")


WORD_JOINER = "\u2060"
"""An invisible character that keeps Streamlit from making a link of an address in user text."""


def md_text(text: str) -> str:
    """``text`` shown exactly as typed through markdown: markdown's special characters escaped, and
    ``&`` (entities), ``=`` (heading underlines), a number's dot at a line's start (lists); a colon
    as an entity (Streamlit's ``:red[..]``, ``:smile:``, ``:material/..:``); an invisible word
    joiner in ``://``, ``www.`` and before ``@`` (Streamlit links addresses after parsing, escaped
    or not); and each line break kept as one."""
    import re

    escaped = re.sub(r"([\\`*_{}\[\]()#+!|<>~$&=-])", r"\\\1", str(text))
    escaped = re.sub(r"(?m)^(\s*\d+)([.)])", r"\1\\\2", escaped)
    escaped = escaped.replace(":", "&#58;")
    escaped = escaped.replace("&#58;//", "&#58;" + WORD_JOINER + "//")
    escaped = re.sub(r"(?i)(www)(?=\.)", r"\1" + WORD_JOINER, escaped).replace("@", WORD_JOINER + "@")
    return escaped.replace("\n", "  \n")


def get_run(st, store, path, sets, lang: str):
    """The run of (path, sets) from the store, with a progress bar when it must be computed.
    Shows a bad scenario or override as a message (before any progress bar) and returns None."""
    from ..errors import TwinError
    from ..scenario import load_scenario

    try:
        if store.has(path, sets):
            return store.get(path, sets)
        load_scenario(path, overrides=list(sets))  # refused here: no "Running…" above the error
    except TwinError as exc:
        show_error(st, lang, exc)
        return None
    bar, update = _progress_bar(st, lang)
    try:
        return store.get(path, sets, progress=update)
    except TwinError as exc:
        show_error(st, lang, exc)
        return None
    finally:
        bar.empty()


def shown(st, lang: str, run, draw) -> None:
    """Draw a run; anything a check of the run folder missed becomes one line naming the folder
    and the kind of error (the details go to the server's log), never a traceback in the page."""
    try:
        draw()
    except Exception as exc:  # a run folder is data from disk: the page must survive it
        logging.getLogger(__name__).exception("cannot show the run in %s", run.folder)
        st.error(t("cannot_show", lang).format(folder=run.folder, what=type(exc).__name__))
