"""The radio buttons of a dimension: same markup as a template loop, values escaped."""

from django import forms

from grille.assessments.templatetags.questionnaire_tags import radio_options
from grille.frameworks.grid import Dimension, Option


class OneChoice(forms.Form):
    niveau = forms.CharField(required=False)


def test_radio_options_check_the_current_value_and_escape_labels():
    dimension = Dimension(
        code="niveau", role="level", label="Niveau", help_text="",
        options=(Option(1, "0", "Jamais", 0), Option(2, "3", "<b>Souvent</b> & plus", 3)),
    )
    field = OneChoice(data={"1.1-niveau": "3"}, prefix="1.1")["niveau"]

    html = radio_options(field, dimension)

    assert html == (
        '<label class="option" for="id_1.1-niveau-0"><input type="radio" id="id_1.1-niveau-0" name="1.1-niveau" value="0"> '
        "<span>Jamais</span></label>\n"
        '<label class="option" for="id_1.1-niveau-1"><input type="radio" id="id_1.1-niveau-1" name="1.1-niveau" value="3" checked> '
        "<span>&lt;b&gt;Souvent&lt;/b&gt; &amp; plus</span></label>"
    )
