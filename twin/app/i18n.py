"""Korean and English texts of the app. Keys are English identifiers; every key has both."""

from __future__ import annotations

LANGS = ("ko", "en")

TEXT: dict[str, dict[str, str]] = {
    "title": {"ko": "의정부 디지털 트윈", "en": "Uijeongbu digital twin"},
    "language": {"ko": "언어 / Language", "en": "Language / 언어"},
    "page": {"ko": "화면", "en": "Page"},
    "page_map": {"ko": "도시 지도", "en": "City map"},
    "page_run": {"ko": "시나리오 실행", "en": "Run a scenario"},
    "map_caption": {
        "ko": "하천, 산책로, 도로, 30년 이상 건물(주황), 대피소와 장치. 배경지도 없이 프로젝트 자료만으로 그렸습니다.",
        "en": "Streams, riverside paths, roads, buildings 30+ years old (orange), shelters and devices, drawn from "
        "the project's own data without base-map tiles.",
    },
    "layers": {"ko": "표시할 층", "en": "Layers"},
    "scenario": {"ko": "시나리오", "en": "Scenario"},
    "rain_total": {"ko": "총 강우량 (mm)", "en": "Total rain (mm)"},
    "rain_duration": {"ko": "강우 지속시간 (시간)", "en": "Rain duration (hours)"},
    "pattern": {"ko": "강우 시간분포", "en": "Rain pattern"},
    "people": {"ko": "산책로 이용자 수", "en": "People on the paths"},
    "overrides": {
        "ko": "고급: 값 덮어쓰기 (키=값, 한 줄에 하나)",
        "en": "Advanced: overrides (key=value, one per line)",
    },
    "run": {"ko": "실행", "en": "Run"},
    "running": {"ko": "계산 중…", "en": "Running…"},
    "invalid": {"ko": "입력값 오류", "en": "Invalid input"},
    "peak_stage": {"ko": "신곡교 최고 수위", "en": "Peak stage at 신곡교 (Singok bridge)"},
    "paths_flooded": {"ko": "침수된 산책로 진출입로", "en": "Riverside access points flooded"},
    "warning_min": {"ko": "가장 짧은 경보 선행시간", "en": "Shortest warning before a path floods"},
    "people_on_path": {"ko": "침수 당시 산책로에 있던 사람", "en": "People on the path when it flooded"},
    "evac_t90": {"ko": "90% 대피 시간", "en": "Time for 90% to reach safety"},
    "stage_chart": {"ko": "수위 (m)와 경보 기준", "en": "Stage (m) and alert levels"},
    "rain_chart": {"ko": "강우량 (mm/분간)", "en": "Rain (mm per sample)"},
    "events": {"ko": "사건 기록", "en": "Events"},
    "minutes": {"ko": "분", "en": "min"},
    "no_warning": {"ko": "경보 전에 침수", "en": "flooded before any alert"},
    "continuity": {"ko": "SWMM 연속성 오차", "en": "SWMM continuity error"},
    "page_compare": {"ko": "제안과 현재 비교", "en": "Compare a proposal"},
    "baseline": {"ko": "현재 (기준)", "en": "Baseline"},
    "proposal": {"ko": "제안", "en": "Proposal"},
    "proposal_overrides": {
        "ko": "제안: 바꿀 값 (키=값, 한 줄에 하나). 예: thresholds.LS-1018665.attention_m=2.0",
        "en": "Proposal: what changes (key=value, one per line), e.g. thresholds.LS-1018665.attention_m=2.0",
    },
    "compare": {"ko": "비교 실행", "en": "Compare"},
    "difference": {"ko": "차이", "en": "Difference"},
    "download_report": {"ko": "보고서 내려받기 (HTML)", "en": "Download the report (HTML)"},
    "download_summary": {"ko": "결과 요약 내려받기 (JSON)", "en": "Download the summary (JSON)"},
}


def t(key: str, lang: str) -> str:
    """The text ``key`` in ``lang`` (``ko`` or ``en``)."""
    if lang not in LANGS:
        raise KeyError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    return TEXT[key][lang]
