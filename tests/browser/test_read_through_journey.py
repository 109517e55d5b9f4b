"""A practitioner reads their 2024 profile on another version's situations, on a phone too."""

from pathlib import Path

from grille.assessments import services
from grille.assessments.services import AnswerInput
from grille.frameworks.crosswalks import load_crosswalk_file
from grille.frameworks.selectors import get_default_version, get_grid
from grille.frameworks.services import load_framework_file

from .conftest import assert_accessible

SMALL_FILE = Path(__file__).parents[1] / "frameworks" / "data" / "petite-grille.yaml"


def test_profile_read_through_a_crosswalk(site, new_context, tmp_path):
    version = get_default_version()
    grid = get_grid(version)
    target = load_framework_file(path=SMALL_FILE).version
    path = tmp_path / "table.csv"
    # Every 2024 practice of situation 1 feeds P.1; 2.1 feeds Q.1 with weight 2.
    path.write_text("source;cible;poids\n1.1;P.1;1\n1.2;P.1;1\n1.3;P.1;1\n2.1;Q.1;2\n", encoding="utf-8")
    crosswalk = load_crosswalk_file(path=path, source=version, target=target, name="2024 → petite grille")
    assessment, raw = services.start_assessment(version=version)
    levels = {"1.1": "3", "1.2": "2", "1.3": "nc", "2.1": "1"}
    services.save_answers(
        assessment=assessment,
        items=[AnswerInput(practice_code=p.code, level=levels.get(p.code, "0")) for p in grid.practices],
    )
    services.submit_assessment(assessment=assessment)

    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        page = new_context(viewport=viewport).new_page()
        page.goto(f"{site}/reprendre/{raw}/")
        page.get_by_role("heading", name="Lire ce profil selon une autre version").wait_for()
        page.get_by_role("link", name=str(crosswalk.target)).click()
        page.get_by_role("heading", name=f"Mon profil lu selon « {crosswalk.target} »").wait_for()
        # P.1 = mean of 3 and 2 (1.3 « Non concerné·e » left out); Q.1 = 2.1's level.
        rows = page.locator("table.reading-table tbody tr")
        assert "2,5" in rows.filter(has_text="P.1").first.inner_text()
        assert "1,0" in rows.filter(has_text="Q.1").first.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert_accessible(page)
