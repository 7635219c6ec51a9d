"""report.html in a real headless Chromium: the verdict, the table rows and non-zero-size SVG charts render,
on a laptop-sized and a phone-sized window, for the sample journals and for a real drill's report.
Screenshots are kept under reports/test-artifacts/ (or ``DRDRILL_TEST_ARTIFACTS``).

Chromium is Debian's ``/usr/bin/chromium``. When it is missing, the set-up installs it with apt-get whenever
it can (running as root with apt-get on the PATH); where it cannot, the test is skipped with the reason,
never silently.

Layout sizes are not in ``--dump-dom``, so the test measures them in a *probe copy* of the page with a
tiny script appended that writes the measurements into the DOM; the report itself has no script.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(
    os.environ.get("DRDRILL_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "reports" / "test-artifacts"
)
TIMEOUT_S = 90
INSTALL_LOCK = Path("/tmp/drdrill-chromium-install.lock")

PROBE = """
<script>
window.addEventListener("load", () => {
  const size = (el) => {
    const r = el.getBoundingClientRect();
    return [Math.round(r.width), Math.round(r.height)];
  };
  const out = {
    verdict: document.querySelector("#verdict .headline").textContent.trim(),
    rows: document.querySelectorAll("tr.scenario-row").length,
    visibleRows: [...document.querySelectorAll("tr.scenario-row")].filter((r) => size(r)[1] > 0).length,
    svgs: [...document.querySelectorAll("svg.chart")].map(size),
    measuresOnScreen: [...document.querySelectorAll("tr.scenario-row")].filter((r) =>
      [".c-verdict", ".c-rto", ".c-rpo"].every((sel) => {
        const cell = r.querySelector(sel);
        if (!cell) return false;
        const box = cell.getBoundingClientRect();
        return box.width > 0 && box.right <= window.innerWidth + 1;
      })).length,
    viewport: window.innerWidth,
    pageWidth: document.documentElement.scrollWidth,
  };
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _which_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _cannot_install() -> str | None:
    """Why Debian's chromium cannot be installed here, or None when it can be tried."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not running as root"
    if shutil.which("apt-get") is None:
        return "apt-get is not available"
    return None


def _tail(result: subprocess.CompletedProcess[bytes]) -> str:
    return " ".join((result.stderr or result.stdout or b"").decode(errors="replace").split())[-300:]


def chromium() -> str:
    """Path of a chromium binary, installing Debian's package when missing and possible; else skip with the reason.

    The install is serialised with a lock file, so parallel test workers install once.
    """
    found = _which_chromium()
    if found:
        return found
    why = _cannot_install()
    if why:
        pytest.skip(f"chromium is not installed and cannot be installed here ({why}): apt-get install chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _which_chromium()  # another worker may have installed it while this one waited
        if found:
            return found
        try:
            update = subprocess.run(
                ["apt-get", "update", "-qq"], check=False, env=env, capture_output=True, timeout=600
            )
            result = subprocess.run(
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
                check=False,
                env=env,
                capture_output=True,
                timeout=900,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"chromium could not be installed: {exc}")
    found = _which_chromium()
    if found:
        return found
    pytest.skip(
        f"chromium could not be installed (apt-get install exit {result.returncode}: {_tail(result)}; "
        f"apt-get update exit {update.returncode})"
    )


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.fixture(scope="module")
def browser() -> str:
    return chromium()


def probe(binary: str, page: Path, tmp: Path, size: str) -> dict[str, object]:
    copy = tmp / f"probe-{size.replace(',', 'x')}.html"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    result = run_chromium(
        binary,
        tmp / f"profile-dom-{size}",
        f"--window-size={size}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        copy.as_uri(),
    )
    match = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert match, f"no probe output; chromium said: {result.stderr[-500:]}"
    data = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert isinstance(data, dict)
    return data


def screenshot(binary: str, page: Path, tmp: Path, size: str, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    target.unlink(missing_ok=True)
    result = run_chromium(
        binary, tmp / f"profile-shot-{name}", f"--window-size={size}", f"--screenshot={target}", page.as_uri()
    )
    assert target.is_file() and target.stat().st_size > 10_000, result.stderr[-500:]
    return target


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_report_renders_in_chromium(browser: str, violated_report: Path, passed_report: Path, tmp_path: Path) -> None:
    page = violated_report / "report.html"
    shot = screenshot(browser, page, tmp_path, "1280,2000", "report-violated-desktop.png")
    assert png_size(shot) == (1280, 2000)
    screenshot(browser, passed_report / "report.html", tmp_path, "1280,2000", "report-passed-desktop.png")

    desktop = probe(browser, page, tmp_path, "1280,2000")
    assert desktop["verdict"] == "DR guarantees violated"
    assert desktop["rows"] == desktop["visibleRows"] == 6
    svgs = desktop["svgs"]
    assert isinstance(svgs, list) and len(svgs) == 3
    assert all(width > 300 and height > 100 for width, height in svgs), svgs


def test_report_fits_a_phone(browser: str, passed_report: Path, tmp_path: Path) -> None:
    page = passed_report / "report.html"
    screenshot(browser, page, tmp_path, "390,2400", "report-passed-phone.png")
    phone = probe(browser, page, tmp_path, "390,844")
    assert phone["verdict"] == "DR guarantees met"
    assert phone["rows"] == phone["visibleRows"] == 7
    # verdict, RTO and RPO of every row are on screen without scrolling the table sideways
    assert phone["measuresOnScreen"] == 7, phone
    # the page itself never scrolls sideways: wide tables scroll inside their own box
    assert phone["pageWidth"] == phone["viewport"], phone
    svgs = phone["svgs"]
    assert isinstance(svgs, list) and len(svgs) == 5
    viewport = phone["viewport"]
    assert isinstance(viewport, int) and viewport <= 520  # headless Chromium may widen tiny windows to 500 px
    assert all(0 < width <= viewport and height > 50 for width, height in svgs), (svgs, viewport)


def test_a_real_drills_report_renders(browser: str, real_run_report: Path, tmp_path: Path) -> None:
    """Not only the sample journals: the report of a real run (backup + pitr drills) renders too."""
    page = real_run_report / "report.html"
    journal = json.loads((real_run_report / "report.json").read_text(encoding="utf-8"))
    screenshot(browser, page, tmp_path, "1280,2000", "report-real-run-desktop.png")
    desktop = probe(browser, page, tmp_path, "1280,2000")
    headline = {"met": "DR guarantees met", "violated": "DR guarantees violated"}[journal["status"]]
    assert desktop["verdict"] == headline
    assert desktop["rows"] == desktop["visibleRows"] == len(journal["scenarios"]) == 2
    svgs = desktop["svgs"]
    assert isinstance(svgs, list) and len(svgs) >= 2  # RTO and timeline at least (RPO when measured)
    assert all(width > 300 and height > 100 for width, height in svgs), svgs


def test_missing_chromium_is_a_skip_with_the_reason_when_it_cannot_be_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.skip.Exception, match=r"cannot be installed here \(not running as root\)"):
        chromium()
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(pytest.skip.Exception, match="apt-get is not available"):
        chromium()


def _shipped_features_journal() -> dict[str, object]:
    """A journal shaped like a run of the shipped features: one scenario per shipped scenario (as collected),
    each with the sample's full evidence (restore job, monitor log, diff, steps, phases)."""
    import copy

    from dr_infra.app.plan_scenarios import plan_scenarios
    from tests.report import journals

    repo = Path(__file__).resolve().parents[2]
    data = journals.as_dict(journals.passed_journal())
    model = data["scenarios"][0]
    scenarios = []
    for planned in plan_scenarios([str(repo / "features")], root=repo):
        scenario = copy.deepcopy(model)
        path = Path(planned.feature_file)
        scenario.update(name=planned.name, feature_file=str(path.relative_to(repo)), guarantee=path.parent.name)
        scenarios.append(scenario)
    data["scenarios"] = scenarios
    data["target"] = journals.target("embedded")  # the simulation notice, as on a shipped run's report
    data["status"] = "met"
    return data


def test_the_shipped_features_report_prints_in_under_10_pages(browser: str, tmp_path: Path) -> None:
    from dr_infra.report import render_all

    data = _shipped_features_journal()
    assert len(data["scenarios"]) >= 30  # type: ignore[arg-type]
    render_all(data, tmp_path / "report", formats=["html"])
    pdf = tmp_path / "report.pdf"
    result = run_chromium(
        browser,
        tmp_path / "profile-print",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        (tmp_path / "report" / "report.html").as_uri(),
    )
    assert pdf.is_file(), result.stderr[-500:]
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert 1 < pages < 10, pages
