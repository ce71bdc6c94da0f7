"""Korean and English texts of the app. Keys are English identifiers; every key has both."""

from __future__ import annotations

LANGS = ("ko", "en")

TEXT: dict[str, dict[str, str]] = {
    "title": {"ko": "의정부 디지털 트윈", "en": "Uijeongbu digital twin"},
    "language": {"ko": "언어 / Language", "en": "Language / 언어"},
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
    "path_refused": {
        "ko": "{problem}: 서버의 파일 경로는 브라우저에서 입력할 수 없습니다. {hint}",
        "en": "{problem}: a file path on the server cannot be typed in the browser. {hint}",
    },
    "hint_rainfall.csv": {
        "ko": "강우 CSV는 '강우 파일 올리기'로 업로드하세요.",
        "en": "Upload the rain CSV with 'Rain from a CSV file' instead.",
    },
    "hint_controller.policy": {
        "ko": "게이트 정책은 '게이트 정책' 목록에서 고르세요.",
        "en": "Pick the gate policy from the 'Gate policy' list instead.",
    },
    "hint_collapse.policy": {
        "ko": "붕괴 조기경보 정책은 시나리오 파일에 적힌 것을 씁니다. 다른 정책은 twin run으로 실행하세요.",
        "en": "The app uses the collapse early-warning policy the scenario names; run another with twin run.",
    },
    "hint_dataset": {
        "ko": "앱은 프로젝트 데이터셋으로 실행합니다. 다른 데이터셋은 twin run으로 실행하세요.",
        "en": "The app runs on the project's dataset; run another dataset with twin run.",
    },
    "rain_upload": {"ko": "강우 파일 올리기 (CSV: time,gauge_id,mm)", "en": "Rain from a CSV file (time,gauge_id,mm)"},
    "policy_pick": {"ko": "게이트 정책", "en": "Gate policy"},
    "cannot_show": {
        "ko": "{folder}: 실행 결과를 표시할 수 없습니다 ({what})",
        "en": "{folder}: the run cannot be shown ({what})",
    },
    "not_loopback": {
        "ko": "앱이 모든 네트워크에서 접속 가능한 상태로 시작되었습니다. 저장소의 .streamlit/config.toml을 복구하거나 "
        "streamlit run app.py --server.address 127.0.0.1 로 시작하세요 (워크숍: --server.address 0.0.0.0).",
        "en": "The app was started listening on every network interface. Restore .streamlit/config.toml of the "
        "repository or start it with streamlit run app.py --server.address 127.0.0.1 (a workshop: "
        "--server.address 0.0.0.0).",
    },
    "peak_stage": {"ko": "{stream} {gauge} 최고 수위", "en": "Peak at {gauge}, {stream}"},
    "paths_flooded": {"ko": "물에 잠긴 산책로 진출입로", "en": "Path access points flooded"},
    "warning_min": {"ko": "침수 전 경보 시간 (가장 짧은 곳)", "en": "Least warning before flooding"},
    "people_on_path": {"ko": "대피 지시 때 산책로에 있던 사람", "en": "People on paths at the order"},
    "evac_t90": {"ko": "90%가 안전해지기까지 (지시 후)", "en": "Time for 90% to reach safety"},
    "stage_chart": {"ko": "수위 (m)와 경보 기준", "en": "Stage (m) and alert levels"},
    "rain_chart": {"ko": "강우량 (10분간 mm, 우량계 평균)", "en": "Rain (mm per 10 min, mean of the gauges)"},
    "events": {"ko": "사건 기록", "en": "Events"},
    "minutes": {"ko": "분", "en": "min"},
    "no_warning": {"ko": "경보 없음: 첫 경보 전에 침수", "en": "no warning: flooded before the first alert"},
    "continuity": {"ko": "SWMM 연속성 오차", "en": "SWMM continuity error"},
    "page_compare": {"ko": "제안과 현재 비교", "en": "Compare a proposal"},
    "page_cctv": {"ko": "CCTV 사각지대와 배치", "en": "CCTV blind spots and placement"},
    "page_collapse": {"ko": "건물·급경사지 붕괴 조기경보", "en": "Building and slope collapse early warning"},
    "cctv_caption": {
        "ko": "카메라가 보는 곳(건물에 가려진 곳 제외)을 DORI 수준별 색으로, 하천 산책로·진출입로·행복로의 "
        "사각지대를 빨간 선으로, 새 카메라 제안을 파란 점으로 보여 줍니다. 카메라 위치와 사양은 근사값입니다.",
        "en": "Where the cameras see (buildings block the view) coloured by DORI level, the blind spots of the "
        "riverside paths, access points and Haengbok-ro as red lines, and proposed new cameras as blue dots. "
        "Camera positions and optics are approximate.",
    },
    "cctv_add": {"ko": "새 카메라 수", "en": "New cameras"},
    "cctv_focus": {"ko": "지도 범위", "en": "Map view"},
    "cctv_building": {"ko": "건물 (시야를 가림, 가까이 볼 때)", "en": "Building (blocks views; shown close in)"},
    "cctv_whole_city": {"ko": "시 전체", "en": "Whole city"},
    "cctv_seen": {"ko": "카메라가 봄", "en": "seen by a camera"},
    "cctv_unseen": {"ko": "사각지대", "en": "blind spot"},
    "cctv_blind": {"ko": "사각지대", "en": "Blind spot"},
    "cctv_paths": {"ko": "하천 산책로·진출입로", "en": "Riverside paths and ramps"},
    "cctv_camera": {"ko": "기존 CCTV", "en": "Existing camera"},
    "cctv_new_camera": {"ko": "새 카메라 제안", "en": "Proposed camera"},
    "cctv_paths_day": {"ko": "낮에 보이는 하천 산책로", "en": "Riverside paths seen by day"},
    "cctv_paths_night": {"ko": "밤에 보이는 하천 산책로", "en": "Riverside paths seen at night"},
    "cctv_aps_seen": {"ko": "카메라가 보는 진출입로", "en": "Access points a camera sees"},
    "cctv_served": {
        "ko": "새 카메라 {n}대: 산책로·진출입로·행복로 중 보이는 비율 (중요도 가중)",
        "en": "{n} new cameras: share of paths, access points and Haengbok-ro seen (weighted by priority)",
    },
    "cctv_solvers": {
        "ko": "탐욕법 {greedy}, 정수계획 {exact} ({status}, {seconds}초)",
        "en": "Greedy {greedy}, integer program {exact} ({status}, {seconds} s)",
    },
    "cctv_zones": {"ko": "구역별로 보이는 보행로 길이", "en": "Walkable length seen, by zone"},
    "cctv_zone": {"ko": "구역", "en": "Zone"},
    "cctv_km": {"ko": "길이 (km)", "en": "Length (km)"},
    "cctv_day": {"ko": "낮 (1대 이상)", "en": "Day (1+ cameras)"},
    "cctv_night": {"ko": "밤 (1대 이상)", "en": "Night (1+ cameras)"},
    "cctv_two": {"ko": "낮 (2대 이상)", "en": "Day (2+ cameras)"},
    "cctv_smart_paths": {
        "ko": "스마트 보행로 후보 이면도로 (사각지대 길이 순)",
        "en": "Back roads for the next smart pedestrian paths (by unseen length)",
    },
    "cctv_street": {"ko": "도로", "en": "Street"},
    "cctv_why": {"ko": "이유", "en": "Why"},
    "baseline": {"ko": "현재 (기준)", "en": "Baseline"},
    "proposal": {"ko": "제안", "en": "Proposal"},
    "proposal_overrides": {
        "ko": "제안: 바꿀 값 (키=값, 한 줄에 하나). 예: 관심 수위에서 대피, 신곡교 관심 수위 1.5 m",
        "en": "Proposal: what changes (key=value, one per line); e.g. leave at the attention level, lowered to 1.5 m",
    },
    "compare": {"ko": "비교 실행", "en": "Compare"},
    "difference": {"ko": "차이", "en": "Difference"},
    "download_report": {"ko": "보고서 내려받기 (HTML)", "en": "Download the report (HTML)"},
    "download_summary": {"ko": "결과 요약 내려받기 (JSON)", "en": "Download the summary (JSON)"},
    "people_exposed": {"ko": "산책로에서 물을 만난 사람", "en": "People the water reached"},
    "evac_t100": {"ko": "모두 안전해지기까지 (지시 후)", "en": "Time until everyone is safe"},
    "living_lab": {"ko": "리빙랩 모드 (큰 글씨, 쉬운 설명)", "en": "Living-lab mode (large text, plain words)"},
    "start_time": {"ko": "시작 시각", "en": "Start time"},
    "trigger": {"ko": "산책로 대피 지시 시점", "en": "When people are told to leave the paths"},
    "trigger_path_flooded": {"ko": "첫 산책로가 잠길 때", "en": "When the first path floods"},
    "trigger_attention": {"ko": "관심 수위에 닿을 때", "en": "When the attention level is reached"},
    "trigger_none": {"ko": "대피 지시 없음", "en": "Nobody is told to leave"},
    "no_order": {"ko": "대피 지시 없음", "en": "no order given"},
    "changed": {"ko": "달라짐", "en": "changed"},
    "people_stream": {"ko": "사람들이 걷는 하천", "en": "Stream where people walk"},
    "thresholds": {"ko": "경보 기준 수위 (m)", "en": "Alert thresholds (m)"},
    "gauge": {"ko": "수위계", "en": "Level gauge"},
    "level_attention": {"ko": "관심", "en": "Attention (관심)"},
    "level_caution": {"ko": "주의", "en": "Caution (주의)"},
    "level_alert": {"ko": "경계", "en": "Alert (경계)"},
    "level_serious": {"ko": "심각", "en": "Serious (심각)"},
    "progress": {"ko": "모의 시간 {done} / {total} 분", "en": "Simulated {done} of {total} min"},
    "playback": {"ko": "다시 보기", "en": "Play back"},
    "time_min": {"ko": "시작 후 시간 (분)", "en": "Minutes since the start"},
    "play": {"ko": "▶ 재생", "en": "▶ Play"},
    "pause": {"ko": "❚❚ 일시 정지", "en": "❚❚ Pause"},  # U+275A: in DejaVu, unlike ⏸
    "legend": {
        "ko": "하천 색: 파랑 평상 · 노랑 관심 · 주황 주의 · 빨강 경계 · 보라 심각. "
        "산책로: 청록 통행 · 주황 대피 지시 · 빨강 침수. 점: 걷는 사람(검정), 대피 중(분홍).",
        "en": "Streams: blue normal · yellow attention · orange caution · red alert · purple serious. Paths: teal "
        "open · amber cleared · red flooded. Dots: people walking (black) and heading to safety (pink). Devices: "
        "gates green open, red closed; signboards orange while showing; cameras magenta while someone is in view.",
    },
    "state_counts": {
        "ko": "산책로 구간: 통행 {open} · 대피 지시 {cleared} · 침수 {flooded} · 지도 위 사람 {people}",
        "en": "Path links: {open} open · {cleared} cleared · {flooded} flooded · {people} people on the map",
    },
    "events_so_far": {"ko": "지금까지의 사건", "en": "Events so far"},
    "gates_section": {"ko": "스마트 차단시설과 제어 판정", "en": "Smart gates and the controller's verdict"},
    "verdict_passed": {
        "ko": "판정: 통과. 모든 차단시설이 산책로 침수 전에 닫혔고 먼저 경고했습니다.",
        "en": "Verdict: passed. Every gate closed before its path flooded, with a warning first.",
    },
    "verdict_failed": {"ko": "판정: 실패 ({n}개 항목): {checks}", "en": "Verdict: failed ({n} checks): {checks}"},
    "verdict_inconclusive": {
        "ko": "판정 보류: 시간 예산을 넘어 이 실행으로는 제어기를 판정할 수 없습니다 ({why}). {sustained}.",
        "en": "Verdict: inconclusive. A timing budget broke, so this run cannot judge the controller ({why}). "
        "{sustained}.",
    },
    "gate_timeline": {
        "ko": "차단시설 시간표: 열림, 경고, 닫힘; ▼ 산책로 침수",
        "en": "Gate timeline: open, warning, closing, closed; ▼ the path flooded",
    },
    "gate_state": {"ko": "상태", "en": "State"},
    "signboard_texts": {"ko": "전광판에 표시된 문구", "en": "What the signboards showed"},
    "evac_chart": {"ko": "대피 곡선: 안전해진 사람 비율", "en": "Evacuation curve: share of people safe"},
    "share_safe": {"ko": "안전해진 비율 (%)", "en": "Share safe (%)"},
    "evac_x": {"ko": "대피 지시 후 시간 (분)", "en": "Minutes since told to leave"},
    "lower_bound": {"ko": "이론적 최단 시간", "en": "Lower bound (shortest possible time)"},
    "download_zip": {"ko": "실행 폴더 내려받기 (zip)", "en": "Download the run folder (zip)"},
    "peak_map": {"ko": "가장 나빴던 순간의 지도", "en": "Map of the worst state"},
    "open_folder": {"ko": "실행 폴더 열기 (twin run --out 결과)", "en": "Open a run folder (from twin run --out)"},
    "folder_path": {"ko": "폴더 경로", "en": "Folder path"},
    "open": {"ko": "열기", "en": "Open"},
    "ll_exposed": {"ko": "산책로에서 물을 만난 사람", "en": "People caught by the water on a path"},
    "ll_people": {"ko": "{n}명", "en": "{n} people"},
    "ll_exposed_none": {
        "ko": "물이 산책로에 닿았을 때 그 구간에 남아 있던 사람은 없었습니다.",
        "en": "Nobody was on a stretch of path when the water reached it.",
    },
    "ll_exposed_some": {
        "ko": "물이 산책로에 닿았을 때 {n}명이 아직 그 구간에 있었습니다.",
        "en": "{n} people were still on a stretch of path when the water reached it.",
    },
    "ll_warning": {"ko": "경보 후 침수까지", "en": "Minutes of warning"},
    "ll_late": {"ko": "경보 없음 ({m}분 늦음)", "en": "No warning ({m} min too late)"},
    "ll_minutes": {"ko": "{m}분", "en": "{m} min"},
    "ll_warning_ok": {
        "ko": "가장 빨리 잠긴 산책로도 첫 경보 {m}분 뒤에 잠겼습니다.",
        "en": "Even the path that flooded soonest had {m} minutes of warning.",
    },
    "ll_warning_late": {
        "ko": "어떤 산책로는 첫 경보보다 {m}분 먼저 잠겼습니다. 경보가 늦습니다.",
        "en": "One path flooded {m} minutes before any alert: the warning comes too late.",
    },
    "no_warning_short": {"ko": "경보 없음", "en": "No warning"},
    "ll_warning_none": {
        "ko": "잠긴 산책로 {n}곳 어디에도 침수 전에 경보가 없었습니다.",
        "en": "None of the {n} paths that flooded had any alert before the water came.",
    },
    "ll_paths": {"ko": "잠긴 산책로 출입구", "en": "Path entrances under water"},
    "ll_paths_sentence": {
        "ko": "하천 산책로 출입구 {of}곳 중 {n}곳이 물에 잠겼습니다.",
        "en": "{n} of the {of} riverside path entrances went under water.",
    },
    "ll_all_safe": {"ko": "모두 안전해질 때까지", "en": "Until everyone was safe"},
    "ll_all_safe_sentence": {
        "ko": "대피 지시 때 산책로에 있던 {n}명이 모두 거리로 나오기까지 {m}분 걸렸습니다.",
        "en": "It took {m} minutes for all {n} people on the paths at the order to reach the street.",
    },
    "ll_peak": {"ko": "{gauge} 최고 수위", "en": "Highest water at {gauge}"},
    "ll_peak_sentence": {
        "ko": "{stream} {gauge} 수위는 최고 {h:.1f} m까지 올랐습니다. 가장 높은 경보 단계: {level}.",
        "en": "The {stream} at {gauge} rose to {h:.1f} m; highest alert level: {level}.",
    },
    "ll_no_level": {"ko": "없음", "en": "none"},
    # --- charts: axes, tooltips, labels on the chart (twin.app.charts) ---
    "stage_axis": {"ko": "수위 (m)", "en": "Stage (m)"},
    "rain_axis": {"ko": "강우량 (mm / 10분)", "en": "Rain (mm / 10 min)"},
    "time_axis_start": {"ko": "시작({clock}) 후 분", "en": "Minutes since the start ({clock})"},
    "clock_time": {"ko": "시각", "en": "Clock time"},
    "device_id": {"ko": "장치 ID", "en": "Device ID"},
    "now": {"ko": "지금", "en": "Now"},
    "people_safe": {"ko": "안전해진 사람 (명)", "en": "People safe"},
    "meaning": {"ko": "뜻", "en": "What it means"},
    "lower_bound_label": {"ko": "이론적 최단 시간 {m}분", "en": "Lower bound {m} min"},
    "lower_bound_help": {
        "ko": "어떤 대피도 이보다 빠를 수 없는 시간입니다: 가장 먼 사람이 혼자 자기 속도로 걸어 나가는 시간과, "
        "길 폭이 허용하는 최대 흐름(최대유량)으로 모두 빠져나가는 시간 중 긴 쪽. 곡선이 이 선에 가까울수록 "
        "대피가 길의 한계만큼 빨랐다는 뜻입니다.",
        "en": "No evacuation can be faster than this: the longer of the time the farthest person needs walking "
        "alone at their own speed, and the time everyone needs at the maximum flow the path widths allow (max "
        "flow). The closer the curve comes to this line, the closer the evacuation was to what the paths allow.",
    },
    # --- KPI values (twin.app.kpis.kpi_value) ---
    "v_minutes": {"ko": "{m} 분", "en": "{m} min"},
    "v_people": {"ko": "{n} 명", "en": "{n} people"},
    "v_of": {"ko": "{n} / {of} 곳", "en": "{n} of {of}"},
    "v_places": {"ko": "{n} 곳", "en": "{n}"},
    "warn_late": {
        "ko": "경보 없음: 첫 경보보다 {m}분 먼저 침수",
        "en": "No warning: flooded {m} min before the first alert",
    },
    "warn_late_medium": {"ko": "경보 없음 ({m}분 늦음)", "en": "No warning ({m} min late)"},
    "warn_late_short": {"ko": "{m}분 늦음", "en": "{m} min late"},
    "warn_no_flood_short": {"ko": "침수 없음", "en": "No flooding"},
    "warn_just_before": {
        "ko": "경보 없음: 첫 경보 직전에 침수",
        "en": "No warning: flooded just before the first alert",
    },
    "warn_no_alert": {"ko": "경보 없음: 경보 없이 침수", "en": "No warning: flooded with no alert at all"},
    "warn_no_flood": {"ko": "잠긴 산책로 없음", "en": "No path flooded"},
    "not_all_safe": {"ko": "모두 안전해지지는 못함", "en": "Not everyone reached safety"},
    # --- KPI explanations on hover (twin.app.kpis.kpi_help) ---
    "help_peak_stage": {
        "ko": "이 실행에서 대표 수위계가 기록한 가장 높은 수위 (m, 수위계 기준면 위). "
        "경보 기준 수위(관심·주의·경계·심각)와 비교해 보세요. 낮을수록 좋습니다.",
        "en": "The highest stage the city's key gauge recorded in this run (m above the gauge datum). Compare it "
        "with the alert levels (attention, caution, alert, serious). Lower is better.",
    },
    "help_paths_flooded": {
        "ko": "하천 산책로 진출입로 가운데 강물이 산책로 높이를 넘은 곳의 수 / 전체 진출입로 수. 적을수록 좋습니다.",
        "en": "Riverside path access points where the river rose above the path, of all the access points. "
        "Fewer is better.",
    },
    "help_warning_min": {
        "ko": "잠긴 진출입로마다 첫 경보(그 곳 수위계나 하천 대표 수위계의 관심 수위, 또는 호우주의보)에서 산책로가 "
        "잠길 때까지 걸린 시간 중 가장 짧은 것 (분). '경보 없음'은 어떤 산책로가 첫 경보보다 먼저 잠겼다는 뜻입니다. "
        "길수록 좋습니다.",
        "en": "For each flooded access point, the time from its first alert (the attention level at its own or "
        "its stream's gauge, or a heavy-rain advisory) to the path going under water; the shortest of them (min). "
        "'No warning' means a path flooded before its first alert. Longer is better.",
    },
    "help_people_on_path": {
        "ko": "대피 지시(첫 산책로 침수 때 또는 관심 수위 도달 때)가 내려진 순간 하천 산책로 위에 있던 사람 수, "
        "모든 하천의 합. 산책로에서 나가야 했던 사람들입니다. 적을수록 좋습니다.",
        "en": "How many people were on the riverside paths at the moment they were told to leave (when the first "
        "path flooded, or when the attention level was reached), summed over the streams: the people who had to "
        "get off the paths. Fewer is better.",
    },
    "help_people_exposed": {
        "ko": "물이 산책로 구간에 닿은 순간 그 구간에 있었거나, 그 뒤 잠긴 구간·지점에 들어간 사람 수 (실행 끝까지). "
        "대피 지시 때 산책로에 있던 사람과 다릅니다: 이 사람들은 실제로 물을 만났습니다. 0이 목표입니다.",
        "en": "How many people were on a stretch of path when the water reached it, or walked into a flooded "
        "stretch afterwards (until the end of the run). Not the people on the paths at the order: these met the "
        "water. The goal is 0.",
    },
    "help_evac_t90": {
        "ko": "대피 지시를 받은 사람 가운데 90%가 거리(안전한 곳)에 닿기까지 걸린 시간 (분, 지시 시각부터). "
        "짧을수록 좋습니다.",
        "en": "Time from the order until 90% of the people told to leave had reached the street (safety), in "
        "minutes. Shorter is better.",
    },
    "help_evac_t100": {
        "ko": "대피 지시를 받은 모든 사람이 거리(안전한 곳)에 닿기까지 걸린 시간 (분, 지시 시각부터). "
        "짧을수록 좋습니다.",
        "en": "Time from the order until everyone told to leave had reached the street (safety), in minutes. "
        "Shorter is better.",
    },
    # --- the compare table (twin.app.kpis.compare_rows) ---
    "verdict": {"ko": "나아졌나", "en": "Better or worse"},
    "better": {"ko": "나아짐", "en": "better"},
    "worse": {"ko": "나빠짐", "en": "worse"},
    "same": {"ko": "같음", "en": "same"},
    # --- the sweep page (twin.app.sweep_view; its own words are in sweep_view.WORDS) ---
    "page_sweep": {"ko": "여러 번 실행 (앙상블)", "en": "Many runs (sweep)"},
    # --- the workshop pages (twin.app.proposals_view, twin.app.facilitator_view) ---
    "page_proposals": {"ko": "제안", "en": "Proposals"},
    "page_facilitator": {"ko": "진행자 화면", "en": "Facilitator"},
}


def t(key: str, lang: str) -> str:
    """The text ``key`` in ``lang`` (``ko`` or ``en``)."""
    if lang not in LANGS:
        raise KeyError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    return TEXT[key][lang]
