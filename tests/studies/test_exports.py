"""Study exports: microdata and codebook, aggregated tables, and the study report PDF."""

from __future__ import annotations

import csv
import io
import math
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format
from pypdf import PdfReader

from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Answer, Assessment
from grille.assessments.services import AnswerInput, save_answers, submit_assessment
from grille.core.pdf import render_pdf_bytes
from grille.core.tabular.writing import BOM, csv_response, write_csv, write_xlsx
from grille.frameworks.selectors import get_grid
from grille.studies import services
from grille.studies.dashboard import build_dashboard, build_tracking, completed_respondents
from grille.studies.exporters import AggregatesExporter, MicrodataExporter
from grille.studies.models import Campaign, PreviousWave, Respondent
from grille.studies.pools import settle_campaign
from grille.studies.reports import report_context, wave_comparisons

FORMULA = '=HYPERLINK("http://x","y")'
FICTIVE = "DONNÉES FICTIVES"


def make_campaign(version, *, synthetic: bool = False, threshold: int = 5, name: str = "Étude des catalyseurs") -> Campaign:
    now = timezone.now()
    return services.create_campaign(
        user=None, name=name, wave_year=2024, version=version,
        opens_at=now - timedelta(days=3), closes_at=now + timedelta(days=30),
        consent_text="J'accepte que mes réponses servent à l'étude.", threshold=threshold, synthetic=synthetic,
    )


def respond(
    campaign: Campaign, levels: dict[str, str], *, profile: dict[str, list[str]] | None = None,
    wish: str = "", carrying: str = "", submit: bool = True,
) -> Respondent:
    """A respondent who answers through the services, as the questionnaire does."""
    respondent = services.start_response(campaign=campaign, link_key=services.open_link_key(), consent_version=1)
    if profile:
        services.save_profile_answers(respondent=respondent, answers=profile)
    save_answers(
        assessment=respondent.assessment,
        items=[AnswerInput(practice_code=code, level=level, wish=wish, carrying=carrying) for code, level in levels.items()],
    )
    if submit:
        submit_assessment(assessment=respondent.assessment)
        settle_campaign(campaign)
    return respondent


def bulk_respondents(campaign: Campaign, n: int, *, start: int = 0) -> None:
    """n submitted respondents written in a few statements, for the streaming test."""
    grid = get_grid(campaign.version_id)
    consent = services.current_consent(campaign)
    now = timezone.now()
    assessments = Assessment.objects.bulk_create(
        Assessment(version_id=campaign.version_id, status=AssessmentStatus.SUBMITTED, submitted_at=now) for _ in range(n)
    )
    Respondent.objects.bulk_create(
        Respondent(campaign=campaign, pseudonym=f"R-BULK{start + i:04d}", link_key=f"bulk-{start + i}", assessment=a, consent=consent)
        for i, a in enumerate(assessments)
    )
    levels = grid.level.options
    Answer.objects.bulk_create(
        Answer(assessment=a, practice_id=practice.id, level_id=levels[(i + j) % len(levels)].id)
        for i, a in enumerate(assessments)
        for j, practice in enumerate(grid.practices[:4])
    )


def read_csv(exporter, sheet: str | None = None) -> tuple[bytes, list[dict[str, str]]]:
    raw = b"".join(csv_response(exporter, sheet).streaming_content)
    return raw, list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def csv_text(sheet) -> str:
    return "".join(write_csv(sheet))


def read_xlsx(exporter) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(write_xlsx(exporter)), read_only=True)


def pdf_pages(campaign: Campaign, **dashboard_args) -> tuple[bytes, list[str]]:
    dashboard = build_dashboard(campaign, **dashboard_args)
    context = report_context(campaign, dashboard, build_tracking(campaign), wave_comparisons(campaign))
    pdf = render_pdf_bytes(RequestFactory().get("/"), "studies/report_pdf.html", context)
    return pdf, [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


class Wave:
    """A real (not synthetic) campaign: two complete respondents, one with « Non concerné·e »,
    one draft, and an invited e-mail address."""

    def __init__(self, version):
        self.campaign = make_campaign(version)
        services.import_invitees(campaign=self.campaign, raw=b"email\nclaire@exemple.fr\ndan@exemple.fr\n")
        self.alice = respond(
            self.campaign, {"1.1": "3", "1.2": "nc", "2.1": "0"}, wish="oui", carrying="interne",
            profile={"structure": ["epci"], "ingenieries": ["catalyse", "gestion-publique"]},
        )
        self.bob = respond(self.campaign, {"1.1": "1"}, wish="priorite", carrying="partenariat")
        self.draft = respond(self.campaign, {"1.1": "2"}, submit=False)


# --- Microdata -------------------------------------------------------------------------------


def test_microdata_csv_matches_the_database(version):
    wave = Wave(version)

    raw, rows = read_csv(MicrodataExporter(wave.campaign))

    assert raw.startswith(BOM.encode())
    assert len(rows) == completed_respondents(wave.campaign).count() == 2
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {wave.alice.pseudonym, wave.bob.pseudonym}
    alice = by_id[wave.alice.pseudonym]
    assert (alice["p1.1_niveau"], alice["p1.1_nc"], alice["p1.1_souhait"], alice["p1.1_portage"]) == ("3", "0", "1", "interne")
    assert (alice["p1.2_niveau"], alice["p1.2_nc"]) == ("", "1")
    assert (alice["p2.1_niveau"], alice["p2.1_nc"]) == ("0", "0")
    assert (alice["p3.1_niveau"], alice["p3.1_nc"], alice["p3.1_souhait"], alice["p3.1_portage"]) == ("", "", "", "")
    assert alice["structure"] == "epci"
    assert (alice["ingenieries__catalyse"], alice["ingenieries__gestion-publique"], alice["ingenieries__management-projets"]) == ("1", "1", "0")
    assert alice["synthetique"] == "0"
    submitted_at = Assessment.objects.get(pk=wave.alice.assessment_id).submitted_at
    assert alice["soumis_le"] == timezone.localdate(submitted_at).isoformat()
    bob = by_id[wave.bob.pseudonym]
    assert (bob["p1.1_niveau"], bob["p1.1_souhait"], bob["p1.1_portage"]) == ("1", "2", "partenariat")
    # Bob skipped the profile: missing, not « no ».
    assert (bob["structure"], bob["ingenieries__catalyse"]) == ("", "")
    assert b"@" not in raw
    assert wave.draft.pseudonym.encode() not in raw


def test_microdata_xlsx_has_the_data_and_a_codebook_of_every_column(version):
    wave = Wave(version)
    exporter = MicrodataExporter(wave.campaign)

    workbook = read_xlsx(exporter)

    assert workbook.sheetnames == ["Microdonnées", "Dictionnaire"]
    data = list(workbook["Microdonnées"].iter_rows(values_only=True))
    assert list(data[0]) == exporter.header
    assert len(data) - 1 == 2
    codebook = list(workbook["Dictionnaire"].iter_rows(values_only=True))
    assert codebook[0] == ("Variable", "Libellé", "Type", "Valeurs")
    entries = {row[0]: row for row in codebook[1:]}
    assert list(entries) == exporter.header
    assert entries["p1.1_niveau"][3].startswith(
        "0 = Je ne pratique pas ; 1 = Ponctuellement ; 2 = Régulièrement ; 3 = C'est le cœur de mon activité"
    )
    assert "Financer les projets" in entries["p1.1_niveau"][1]
    assert entries["p1.1_souhait"][3].startswith("0 = Non ; 1 = Oui ; 2 = Oui, en priorité")
    assert entries["structure"][1:3] == ("Type de structure", "catégorielle (code)")
    assert "epci = EPCI (intercommunalité)" in entries["structure"][3]
    assert FICTIVE not in str(codebook)
    assert "@" not in str(data) + str(codebook)


def test_microdata_of_a_synthetic_campaign_says_so_and_stays_rectangular(version):
    campaign = make_campaign(version, synthetic=True)
    respond(campaign, {"1.1": "2"})
    exporter = MicrodataExporter(campaign)

    _raw, rows = read_csv(exporter)
    codebook = list(read_xlsx(exporter)["Dictionnaire"].iter_rows(values_only=True))

    assert [row["synthetique"] for row in rows] == ["1"]
    assert codebook[1][0] == "DONNÉES FICTIVES — générées pour essayer Grille"
    assert "donnees-fictives" in exporter.filename


def test_microdata_formula_in_a_question_stays_text(version):
    campaign = make_campaign(version)
    question = services.add_question(campaign=campaign, label=FORMULA, kind="single", options_text=f"{FORMULA}\nAutre")
    option = question.options[0][0]
    respond(campaign, {"1.1": "2"}, profile={question.code: [option]})
    exporter = MicrodataExporter(campaign)

    workbook = openpyxl.load_workbook(io.BytesIO(write_xlsx(exporter)), read_only=True)
    cells = {row[0].value: row for row in workbook["Dictionnaire"].iter_rows() if row[0].value}
    label = cells[question.code][1]
    codebook_csv = list(csv.reader(io.StringIO(csv_text(exporter.codebook_sheet()).removeprefix(BOM)), delimiter=";"))

    assert (label.value, label.data_type) == (FORMULA, "s")
    assert cells[question.code][3].value.startswith(f"{option} = {FORMULA}")
    assert cells[question.code][3].data_type == "s"
    assert next(row for row in codebook_csv if row[0] == question.code)[1] == "'" + FORMULA


@pytest.mark.parametrize(("chunk_size", "sizes"), [(10, (20, 60)), (100, (20, 60))])
def test_microdata_rows_stream_with_one_query_per_chunk(version, chunk_size, sizes):
    campaign = make_campaign(version)
    counts = {}
    for n in sizes:
        bulk_respondents(campaign, n - Respondent.objects.filter(campaign=campaign).count(), start=len(counts) * 1000)
        exporter = MicrodataExporter(campaign, chunk_size=chunk_size)
        with CaptureQueriesContext(connection) as queries:
            rows = list(exporter.rows())
        assert len(rows) == n
        # The respondents once, then the answers and the profiles of each chunk.
        assert len(queries) == 1 + 2 * math.ceil(n / chunk_size)
        counts[n] = len(queries)
    if chunk_size >= max(sizes):
        assert counts[sizes[0]] == counts[sizes[1]]


def test_microdata_rows_are_ordered_and_complete_across_chunks(version):
    campaign = make_campaign(version)
    bulk_respondents(campaign, 23)

    rows = list(MicrodataExporter(campaign, chunk_size=5).rows())

    expected = list(Respondent.objects.filter(campaign=campaign).order_by("pk").values_list("pseudonym", flat=True))
    assert [row[0] for row in rows] == expected
    width = len(MicrodataExporter(campaign).header)
    assert {len(row) for row in rows} == {width}


def test_withdrawn_respondent_disappears_from_the_microdata(version):
    wave = Wave(version)
    services.withdraw_response(respondent=wave.alice)

    _raw, rows = read_csv(MicrodataExporter(wave.campaign))

    assert [row["id"] for row in rows] == [wave.bob.pseudonym]
    assert len(rows) == completed_respondents(wave.campaign).count()


# --- Aggregates ------------------------------------------------------------------------------


def small_cells_campaign(version) -> Campaign:
    """Ten respondents (two batches of k = 5, all published): 1.1 has eight « 2 » (read 6 to 10
    whatever the noise) and two « 3 » (read 0 to 4: never shown), 2.1 is answered by two only (a
    whole line under k), situation 3 by nobody; six associations and four communes."""
    campaign = make_campaign(version)
    for i in range(10):
        levels = {"1.1": "3" if i < 2 else "2", "1.2": str(i % 2)}
        if i < 2:
            levels["2.1"] = "1"
        respond(campaign, levels, profile={"structure": ["association" if i < 6 else "commune"]})
    return campaign


def test_aggregates_show_s_exactly_where_the_dashboard_suppresses(version):
    campaign = small_cells_campaign(version)
    dashboard = build_dashboard(campaign)

    workbook = read_xlsx(AggregatesExporter(campaign, dashboard))

    assert workbook.sheetnames == ["À propos", "Situations", "Axes", "Pratiques"]
    practices = list(workbook["Pratiques"].iter_rows(values_only=True))
    header, by_code = practices[0], {row[0]: row for row in practices[1:] if row}
    levels = dashboard.grid.level.options
    n_columns = [header.index(f"n : {o.label}") for o in levels]
    for row in dashboard.practices:
        line = by_code[row.practice.code]
        assert line[header.index("Réponses")] == row.answered.display
        for column, (_option, cell) in zip(n_columns, row.levels, strict=True):
            assert line[column] == ("s" if cell.suppressed else cell.value)
    first = by_code["1.1"]
    regular = first[n_columns[2]]
    # Zeros and the two « 3 » are not shown; the eight « 2 » read within the noise.
    assert [first[c] for c in n_columns] == ["s", "s", regular, "s", "s"]
    assert 6 <= regular <= 10
    # Totals, shares and means come from the shown counts only: nothing gives a hidden one back.
    assert first[header.index("Réponses")] == regular
    assert first[header.index("% : Régulièrement")] == 100.0
    assert first[header.index("Moyenne")] == 2.0
    contracts = by_code["2.1"]
    assert [contracts[c] for c in n_columns] == ["s"] * len(levels)
    assert contracts[header.index("Réponses")] == "s"
    assert contracts[header.index("Moyenne"):] == ("s", "s", "s", "s")
    assert "« s » = moins de 5, non diffusé" in str(practices[-2:])
    situations = {row[0]: row for row in workbook["Situations"].iter_rows(values_only=True) if row}
    first_situation = dashboard.situations[0][1]
    if not first_situation.suppressed:
        assert situations["1"][2:] == (pytest.approx(first_situation.mean, abs=1e-3), pytest.approx(first_situation.low, abs=1e-3), pytest.approx(first_situation.high, abs=1e-3), first_situation.n)
    assert situations["3"][2:] == ("s", "s", "s", "s")


def test_aggregates_about_sheet_describes_the_wave(version):
    campaign = small_cells_campaign(version)
    dashboard = build_dashboard(campaign, filters={"structure": "association"})

    about = dict(read_xlsx(AggregatesExporter(campaign, dashboard))["À propos"].iter_rows(min_row=2, values_only=True))

    assert about["Campagne"] == "Étude des catalyseurs"
    assert about["Vague"] == 2024
    assert about["Seuil de diffusion (k)"] == 5
    assert about["Filtres appliqués"] == "Type de structure : Association"
    # Six associations out of ten: the four others would be the difference, so nothing is shown.
    assert about["Répondants retenus"] == "s"
    assert about["Diffusion"].startswith("Ces filtres écartent entre 1 et 4 personnes d'un groupe plus large")
    assert "Données fictives" not in about


def test_aggregates_of_a_synthetic_campaign_say_so_on_every_sheet(version):
    campaign = make_campaign(version, synthetic=True)
    for _i in range(5):
        respond(campaign, {"1.1": "2"})
    exporter = AggregatesExporter(campaign, build_dashboard(campaign))

    workbook = read_xlsx(exporter)

    for name in workbook.sheetnames:
        assert FICTIVE in str(list(workbook[name].iter_rows(values_only=True))), name
    assert "donnees-fictives" in exporter.filename


def test_aggregates_segments_hide_small_segments(version):
    campaign = small_cells_campaign(version)
    dashboard = build_dashboard(campaign, compare="structure")

    workbook = read_xlsx(AggregatesExporter(campaign, dashboard))

    segments = {row[0]: row for row in workbook["Segments"].iter_rows(values_only=True) if row}
    # Six associations and four communes: both hidden (the communes are under k, and the
    # associations differ from everyone by four people, whom the difference would show).
    assert set(segments["Association"][1:]) == {"s"}
    assert set(segments["Commune"][1:]) == {"s"}
    reasons = {segment.code: segment.reason for segment in dashboard.segments}
    assert (reasons["association"], reasons["commune"]) == ("neighbour", "too-few")


# --- Report PDF --------------------------------------------------------------------------------


def add_previous_wave(campaign: Campaign) -> PreviousWave:
    aggregates = "item;libellé;niveau;effectif\nQ1;Financements;0;10\nQ1;;1;10\nQ1;;2;10\nQ1;;3;10\nQ9;Item sans équivalent;0;5\n"
    wave = services.import_previous_wave(
        campaign=campaign, name="Étude 2018", year=2018, source_format="aggregates", raw=aggregates.encode()
    )
    services.import_crosswalk(wave=wave, raw=b"source;cible\nQ1;1.1\n")
    return wave


def test_report_pdf_of_a_synthetic_campaign_says_so_on_every_page(version):
    campaign = make_campaign(version, synthetic=True, name="Démonstration")
    for i in range(10):
        respond(campaign, {"1.1": "3" if i == 0 else "2", "1.2": str(i % 2), "8.3": "nc"})
    add_previous_wave(campaign)

    pdf, pages = pdf_pages(campaign)

    assert pdf.startswith(b"%PDF")
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert FICTIVE in text, f"page {number}"
    text = "\n".join(pages)
    assert "Méthodologie" in text
    assert "k = 5 répondants" in text
    opens = date_format(timezone.localtime(campaign.opens_at), "j F Y")
    closes = date_format(timezone.localtime(campaign.closes_at), "j F Y")
    assert f"du {opens} au {closes}" in text
    assert "Financer les projets" in text
    assert "Mann–Whitney" in text
    assert "Comparaison avec la vague 2018" in text
    assert "Q9 Item sans équivalent" in text
    assert text.index("Méthodologie") < text.index("Pratique par pratique")


def test_report_pdf_of_a_real_campaign_has_no_fictive_notice(version):
    campaign = small_cells_campaign(version)

    pdf, pages = pdf_pages(campaign)

    assert pdf.startswith(b"%PDF")
    assert all(FICTIVE not in text for text in pages)
    assert "Financer les projets" in "\n".join(pages)


def test_report_context_never_carries_a_suppressed_value(version):
    campaign = small_cells_campaign(version)
    dashboard = build_dashboard(campaign)

    context = report_context(campaign, dashboard, build_tracking(campaign), None)

    lines = {line.practice.code: line for group in context["practice_groups"] for line in group.lines}
    assert [str(f) for f in lines["2.1"].shares] == ["s"] * 5
    assert (str(lines["2.1"].answered), str(lines["2.1"].mean)) == ("s", "s")
    assert [str(f) for f in lines["1.1"].shares] == ["s", "s", "100", "s", "s"]
    situations = {row.code: row for row in context["situations"]}
    assert [str(situations["3"].mean), str(situations["3"].n)] == ["s", "s"]
    assert 8 <= int(str(context["respondents"])) <= 12
    assert context["waves"] == []


def test_report_pdf_under_k_respondents_prints_no_figure(version):
    campaign = make_campaign(version)
    for _i in range(3):
        respond(campaign, {"1.1": "2"})

    _pdf, pages = pdf_pages(campaign)

    text = "\n".join(pages)
    assert "Moins de 5 répondants correspondent à ce rapport" in text
    assert "Pratique par pratique" not in text
