"""Reading analysts' files: respondent lists and earlier waves, as people really have them."""

from collections import Counter
from pathlib import Path

import pytest

from grille.core.tabular.reading import (
    MAX_UPLOAD_BYTES,
    ImportFileError,
    LineError,
    Row,
    decode_upload,
    shown,
    sniff_rows,
)
from grille.frameworks.crosswalks import parse_crosswalk
from grille.studies.importers import (
    EmailImport,
    WaveData,
    WaveItem,
    parse_email_list,
    parse_wave_aggregates,
    parse_wave_microdata,
)

DATA = Path(__file__).parent / "data"
MICRODATA_EXPECTED = "valeur non reconnue : attendu un niveau de 0 à 3, ou vide, NA, NC, non concerné"
WEIGHT_EXPECTED = "poids non reconnu : attendu un nombre strictement positif, par exemple 1 ou 0,5"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


# decode_upload


def test_decode_upload_drops_the_utf8_bom_and_crlf():
    assert decode_upload("\ufeffCourriel;Nom\r\nÉlise;x\r\n".encode()) == "Courriel;Nom\nÉlise;x\n"


def test_decode_upload_reads_windows_1252_when_not_utf8():
    raw = "Cœur;Noël\n".encode("cp1252")

    assert decode_upload(raw) == "Cœur;Noël\n"


def test_decode_upload_ignores_a_utf8_bom_before_windows_1252_bytes():
    assert decode_upload(b"\xef\xbb\xbfCourriel\nNo\xebl\n") == "Courriel\nNoël\n"


def test_decode_upload_falls_back_to_latin1_for_bytes_windows_1252_leaves_undefined():
    assert decode_upload(b"caf\xe9 \x81\n") == "café \x81\n"


def test_decode_upload_turns_old_mac_line_endings_into_newlines():
    assert decode_upload(b"a\rb\r\nc") == "a\nb\nc"


def test_decode_upload_reads_excel_unicode_text_in_utf16():
    raw = "Courriel\tNom\r\nhélène@exemple.fr\tH\r\n".encode("utf-16")

    assert decode_upload(raw) == "Courriel\tNom\nhélène@exemple.fr\tH\n"


def test_decode_upload_refuses_nul_bytes():
    with pytest.raises(ImportFileError) as error:
        decode_upload(b"a@b.fr\x00\n")

    assert str(error.value) == (
        "Le fichier contient des caractères nuls : ce n'est pas un fichier texte. Enregistrez-le au format CSV."
    )


@pytest.mark.parametrize("magic", [b"PK\x03\x04", b"\xd0\xcf\x11\xe0"])
def test_decode_upload_refuses_a_workbook_and_says_how_to_save_it_as_csv(magic):
    with pytest.raises(ImportFileError) as error:
        decode_upload(magic + b"\x00\x00rest of a workbook")

    assert str(error.value) == (
        "Ce fichier est un classeur (Excel ou LibreOffice), pas un fichier CSV. Ouvrez-le et "
        "enregistrez-le au format « CSV UTF-8 » ou « CSV (séparateur : point-virgule) »."
    )


def test_decode_upload_accepts_exactly_five_megabytes():
    assert len(decode_upload(b"a" * MAX_UPLOAD_BYTES)) == 5 * 1024 * 1024


def test_decode_upload_refuses_more_than_five_megabytes():
    with pytest.raises(ImportFileError) as error:
        decode_upload(b"a" * (MAX_UPLOAD_BYTES + 1))

    assert str(error.value) == (
        "Le fichier est trop volumineux : la limite est de 5 Mo. Découpez-le en plusieurs fichiers."
    )


@pytest.mark.parametrize("raw", [b"", b"\xef\xbb\xbf", b" \r\n\r\n\t\n"])
def test_decode_upload_refuses_an_empty_file(raw):
    with pytest.raises(ImportFileError) as error:
        decode_upload(raw)

    assert str(error.value) == "Le fichier est vide."


# sniff_rows


def test_sniff_rows_prefers_semicolons_over_decimal_commas():
    rows = sniff_rows("source;cible;poids\nQ1;1.1;0,5\nQ2;1.2;0,25\n")

    assert rows == [
        Row(1, ["source", "cible", "poids"]),
        Row(2, ["Q1", "1.1", "0,5"]),
        Row(3, ["Q2", "1.2", "0,25"]),
    ]


def test_sniff_rows_reads_commas_with_quoted_commas():
    rows = sniff_rows('nom,email\n"Dupont, Jean",jean@exemple.fr\n')

    assert rows == [Row(1, ["nom", "email"]), Row(2, ["Dupont, Jean", "jean@exemple.fr"])]


def test_sniff_rows_reads_tabs_when_cells_hold_commas_and_semicolons():
    rows = sniff_rows("a\tb\nx, y\tz ; t\n")

    assert rows == [Row(1, ["a", "b"]), Row(2, ["x, y", "z ; t"])]


def test_sniff_rows_skips_blank_lines_and_keeps_the_file_line_numbers():
    rows = sniff_rows("a;b\n\n;;\n  \nc;d\n")

    assert rows == [Row(1, ["a", "b"]), Row(5, ["c", "d"])]


def test_sniff_rows_numbers_a_row_after_a_quoted_line_break_by_its_first_line():
    rows = sniff_rows('nom;mail\n"Dupont\nJean";j@x.fr\nMartin;m@x.fr\n')

    assert rows == [Row(1, ["nom", "mail"]), Row(2, ["Dupont\nJean", "j@x.fr"]), Row(4, ["Martin", "m@x.fr"])]


def test_sniff_rows_keeps_a_one_column_file_whole_despite_stray_separators():
    rows = sniff_rows("a@x.fr\nb@x.fr, c@x.fr\nd@x.fr;\ne@x.fr\n")

    assert rows == [Row(1, ["a@x.fr"]), Row(2, ["b@x.fr, c@x.fr"]), Row(3, ["d@x.fr;"]), Row(4, ["e@x.fr"])]


def test_sniff_rows_reports_a_runaway_quote_that_swallows_the_file():
    with pytest.raises(ImportFileError) as error:
        sniff_rows('a@x.fr\n"' + "b" * 200_000)

    assert str(error.value) == (
        "Le fichier n'a pas pu être lu à partir de la ligne 2 : une cellule est trop longue, "
        "sans doute à cause d'un guillemet jamais refermé."
    )


# Respondent lists


def test_email_list_reads_excel_utf8_with_bom_and_courriel_header():
    result = parse_email_list(data("emails_excel_utf8_bom.csv"))

    assert result == EmailImport(
        emails=["claire.martin@exemple.fr", "jean-luc.petit@cc-vallee.fr", "helene.roux@agglo-exemple.fr"],
        errors=[LineError(6, "claire.martin@exemple.fr", "en double (déjà ligne 2)", "Courriel")],
        total_lines=6,
        column="Courriel",
    )
    assert not result.ok


def test_email_list_reads_windows_1252_commas_with_accented_names():
    raw = data("emails_windows1252_comma.csv")
    assert "Cœur".encode("cp1252") in raw  # the fixture really is Windows-1252

    result = parse_email_list(raw)

    assert result.emails == ["f.lefevre@agglo-exemple.fr", "gaelle.coeur@departement-exemple.fr"]
    assert result.errors == [
        LineError(4, "jerome.noel@exemple", "adresse invalide", "E-mail"),
        LineError(5, "", "adresse manquante", "E-mail"),
    ]
    assert result.column == "E-mail"
    assert sniff_rows(decode_upload(raw))[2] == Row(
        3, ["Cœur", "Gaëlle", "gaelle.coeur@departement-exemple.fr", "Département, direction des territoires"]
    )


def test_email_list_reports_each_bad_line_of_a_pasted_list_and_never_echoes_a_formula():
    result = parse_email_list(data("emails_plain_messy.txt"))

    assert result.emails == ["jean.dupont@exemple.fr", "marie.curie@exemple.fr", "paul.martin@exemple.fr"]
    assert result.errors == [
        LineError(4, "jean.dupont@", "adresse invalide"),
        LineError(5, "'=HYPERLINK(\"x\")", "adresse invalide"),
        LineError(7, "'@evil", "adresse invalide"),
        LineError(8, "Jean.Dupont@exemple.fr", "en double (déjà ligne 1)"),
        LineError(10, "'+33612345678", "adresse invalide"),
        LineError(11, "'-2+3", "adresse invalide"),
        LineError(12, "marie.curie@exemple.fr", "en double (déjà ligne 3)"),
    ]
    assert result.total_lines == 14
    assert result.column is None


def test_email_list_keeps_line_numbers_with_crlf_and_a_quoted_line_break():
    raw = data("emails_crlf.csv")
    assert raw.count(b"\r\n") == 7

    result = parse_email_list(raw)

    assert result.emails == ["paul.durand@exemple.fr", "jean.dupont@exemple.fr"]
    assert result.errors == [
        LineError(5, "pas-une-adresse", "adresse invalide", "Adresse"),
        LineError(7, "PAUL.DURAND@exemple.fr", "en double (déjà ligne 2)", "Adresse"),
    ]
    assert result.total_lines == 7


def test_email_list_reads_a_tab_separated_copy_of_a_spreadsheet():
    result = parse_email_list(data("emails_tab.tsv"))

    assert result == EmailImport(
        emails=["sophie.laurent@region-exemple.fr", "marc@exemple.fr", "contact@asso-exemple.org"],
        errors=[],
        total_lines=4,
        column="Mail",
    )
    assert result.ok


def test_email_list_without_header_takes_the_first_column_with_an_at_on_most_lines():
    result = parse_email_list(data("emails_no_header.csv"))

    assert result.emails == ["jean.dupont@exemple.fr", "marie@atelier-exemple.fr", "paul.martin@exemple.fr"]
    assert result.errors == [LineError(4, "luc.durand@", "adresse invalide")]
    assert result.column is None


@pytest.mark.parametrize("name", ["empty.csv", "blank_excel.csv"])
def test_email_list_refuses_an_empty_file(name):
    with pytest.raises(ImportFileError) as error:
        parse_email_list(data(name))

    assert str(error.value) == "Le fichier est vide."


def test_email_list_refuses_a_header_alone():
    with pytest.raises(ImportFileError) as error:
        parse_email_list(b"Courriel;Nom\r\n")

    assert str(error.value) == "Le fichier ne contient aucune adresse, seulement une ligne d'en-tête."


@pytest.mark.parametrize(
    "header",
    ["Email", "E-mail", "E_MAIL", "Adresse e-mail", "Adresse électronique", "Courriel professionnel", "Mél", "Adresse"],
)
def test_email_list_recognises_the_address_column_header(header):
    result = parse_email_list(f"Nom;{header}\nDupont;jean@exemple.fr\n".encode())

    assert (result.emails, result.column) == (["jean@exemple.fr"], header)


def test_email_list_prefers_an_email_column_to_a_postal_address():
    result = parse_email_list(b"Nom;Adresse;E-mail\nDupont;1 rue de la Paix;jean@exemple.fr\n")

    assert (result.emails, result.column) == (["jean@exemple.fr"], "E-mail")


def test_email_list_finds_the_column_under_an_unknown_header_by_its_at_signs():
    result = parse_email_list(b"Nom;Contact\nDupont;jean@exemple.fr\nMartin;marie@exemple.fr\n")

    assert (result.emails, result.errors, result.column) == (["jean@exemple.fr", "marie@exemple.fr"], [], "Contact")


def test_email_list_reports_a_first_line_that_is_neither_a_known_header_nor_an_address():
    result = parse_email_list(b"Participants\njean@exemple.fr\n")

    assert result.emails == ["jean@exemple.fr"]
    assert result.errors == [LineError(1, "Participants", "adresse invalide")]


def test_email_list_reports_a_runaway_quote_instead_of_losing_the_addresses_after_it():
    result = parse_email_list(b'a@exemple.fr\n"b@exemple.fr\nc@exemple.fr\n')

    assert result.emails == ["a@exemple.fr"]
    assert result.errors == [LineError(2, "b@exemple.fr c@exemple.fr", "adresse invalide")]


def test_email_list_of_twenty_thousand_addresses_keeps_order_and_finds_the_last_duplicate():
    lines = [f"Personne.{i}@Exemple.fr" for i in range(20_000)] + ["personne.7@exemple.fr"]

    result = parse_email_list("\n".join(lines).encode())

    assert len(result.emails) == 20_000
    assert result.emails[:2] == ["personne.0@exemple.fr", "personne.1@exemple.fr"]
    assert result.emails[-1] == "personne.19999@exemple.fr"
    assert result.errors == [LineError(20_001, "personne.7@exemple.fr", "en double (déjà ligne 8)")]
    assert result.total_lines == 20_001


def test_line_error_reads_as_a_sentence():
    assert str(LineError(6, "'=1+1", "adresse invalide", "Courriel")) == (
        "Ligne 6, colonne « Courriel » : adresse invalide (« '=1+1 »)"
    )
    assert str(LineError(5, "", "adresse manquante")) == "Ligne 5 : adresse manquante"


def test_line_error_built_by_a_caller_from_a_raw_value_still_reads_inert():
    assert str(LineError(0, '=HYPERLINK("x")', "item inconnu")) == "Ligne 0 : item inconnu (« '=HYPERLINK(\"x\") »)"


def test_header_names_echoed_in_errors_are_inert_too():
    result = parse_crosswalk(b"source;cible;=cmd\nQ1;1.1;x\n")

    assert result.errors == [
        LineError(1, "'=cmd", "colonne inconnue (colonnes acceptées : source, cible, target, poids, weight)", "'=cmd")
    ]


def test_shown_makes_a_value_one_short_inert_line():
    assert shown("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert shown("a\nb\tc") == "a b c"
    assert shown("x" * 200) == "x" * 79 + "…"


# Earlier waves: microdata


def test_wave_microdata_counts_levels_per_item_and_leaves_missing_answers_out():
    result = parse_wave_microdata(data("wave2018_microdata.csv"))

    assert result == WaveData(
        items={
            "Q1": WaveItem("Q1", "", Counter({0: 1, 1: 2, 2: 2, 3: 1})),
            "Q2": WaveItem("Q2", "", Counter({2: 2, 3: 1})),
            "fin_projets": WaveItem("fin_projets", "", Counter({1: 1, 2: 1})),
        },
        respondents=6,
        errors=[],
    )
    assert list(result.items["Q1"].counts) == [0, 1, 2, 3]
    assert result.ok


def test_wave_microdata_reports_bad_cells_with_line_and_column():
    result = parse_wave_microdata(data("wave2018_microdata_errors.csv"))

    assert result.errors == [
        LineError(1, "Q1", "colonne en double (déjà colonne 2)", "Q1"),
        LineError(3, "4", MICRODATA_EXPECTED, "Q1"),
        LineError(3, "deux", MICRODATA_EXPECTED, "Q2"),
        LineError(4, "R001", "identifiant en double (déjà ligne 2)", "repondant"),
        LineError(4, "'-1", MICRODATA_EXPECTED, "Q1"),
        LineError(4, "1.5", MICRODATA_EXPECTED, "Q2"),
        LineError(5, "'=1+2", MICRODATA_EXPECTED, "Q1"),
        LineError(5, "7", "valeur dans une colonne sans en-tête (colonne 5)"),
    ]
    assert result.items["Q1"].counts == {0: 1}
    assert result.items["Q2"].counts == {2: 1, 3: 1}
    assert result.respondents == 4
    assert not result.ok


def test_wave_microdata_without_respondent_id_reads_every_column_as_an_item():
    result = parse_wave_microdata(b"Q1,Q2\n0,1\n3,\n")

    assert result.items == {"Q1": WaveItem("Q1", "", Counter({0: 1, 3: 1})), "Q2": WaveItem("Q2", "", Counter({1: 1}))}
    assert result.respondents == 2


def test_wave_microdata_accepts_another_scale_when_asked():
    result = parse_wave_microdata(b"id;Q1\nR1;4\nR2;0\n", levels=range(1, 5))

    assert result.items["Q1"].counts == {4: 1}
    assert result.errors == [
        LineError(3, "0", "valeur non reconnue : attendu un niveau de 1 à 4, ou vide, NA, NC, non concerné", "Q1")
    ]


def test_wave_microdata_refuses_a_file_with_no_item_column():
    with pytest.raises(ImportFileError) as error:
        parse_wave_microdata(b"identifiant\nR1\n")

    assert str(error.value) == (
        "Aucune colonne d'item : la première ligne doit donner les codes des items (par exemple Q1;Q2;Q3)."
    )


# Earlier waves: aggregates


def test_wave_aggregates_reads_counts_and_keeps_labels():
    result = parse_wave_aggregates(data("wave2018_aggregates.csv"))

    assert result == WaveData(
        items={
            "Q1": WaveItem("Q1", "Animer le dialogue territorial", Counter({0: 12, 1: 30, 2: 41, 3: 17})),
            "Q2": WaveItem("Q2", "Conduire des expérimentations, ensemble", Counter({0: 5, 1: 7, 2: 0})),
            "fin_projets": WaveItem("fin_projets", "", Counter({1: 4})),
        },
        respondents=None,
        errors=[],
    )


def test_wave_aggregates_accepts_english_headers_and_commas():
    result = parse_wave_aggregates(data("wave2018_aggregates_english.csv"))

    assert result.items == {"Q1": WaveItem("Q1", "Animer le dialogue, territorial", Counter({0: 12, 3: 17}))}
    assert result.errors == []


def test_wave_aggregates_reports_duplicates_bad_levels_and_bad_counts():
    result = parse_wave_aggregates(data("wave2018_aggregates_errors.csv"))

    assert result.errors == [
        LineError(
            1,
            "pourcentage",
            "colonne inconnue (colonnes acceptées : item, code, niveau, level, effectif, effectifs, n, count, libelle, label)",
            "pourcentage",
        ),
        LineError(4, "1", "niveau déjà donné pour cet item ligne 3", "niveau"),
        LineError(5, "trois", "niveau non reconnu : attendu un nombre entier de 0 à 3", "niveau"),
        LineError(6, "'-3", "effectif non reconnu : attendu un nombre entier, positif ou nul", "effectif"),
        LineError(7, "12,5", "effectif non reconnu : attendu un nombre entier, positif ou nul", "effectif"),
        LineError(8, "", "code d'item manquant", "item"),
        LineError(9, "4", "niveau non reconnu : attendu un nombre entier de 0 à 3", "niveau"),
    ]
    assert result.items["Q1"].counts == {0: 12, 1: 30}


def test_wave_aggregates_reports_a_label_that_changes_within_an_item():
    result = parse_wave_aggregates("item;niveau;effectif;libellé\nQ1;0;3;Animer\nQ1;1;4;Animer le dialogue\n".encode())

    assert result.errors == [LineError(3, "Animer le dialogue", "libellé différent de celui de la ligne 2", "libellé")]


def test_wave_aggregates_reads_counts_with_thousands_separators_and_a_trailing_zero():
    result = parse_wave_aggregates("item;niveau;effectif\nQ1;0;1\u202f204\nQ1;1;12.0\n".encode())

    assert result.items["Q1"].counts == {0: 1204, 1: 12}


def test_wave_aggregates_names_the_missing_column():
    with pytest.raises(ImportFileError) as error:
        parse_wave_aggregates(b"item;effectif\nQ1;3\n")

    assert str(error.value) == (
        "Il manque la colonne « niveau ou level ». La première ligne doit nommer les colonnes, "
        "par exemple : item;niveau;effectif."
    )

