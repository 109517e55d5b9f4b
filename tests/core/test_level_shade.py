"""Level shades in the team map follow any level scale, not the 2024 codes."""

from grille.core.templatetags.grille_tags import level_shade
from grille.frameworks.grid import Dimension, Option


def scale(*values):
    options = tuple(Option(id=i, code=f"c{i}", label=f"o{i}", value=v) for i, v in enumerate(values))
    return Dimension(code="niveau", role="level", label="Niveau", help_text="", options=options)


def test_the_2024_scale_keeps_one_shade_per_level():
    dimension = scale(0, 1, 2, 3, None)

    assert [level_shade(o, dimension) for o in dimension.options] == ["level-0", "level-1", "level-2", "level-3", "level-nc"]


def test_a_shorter_and_a_longer_scale_spread_over_the_same_shades():
    three = scale(0, 1, 2)
    six = scale(0, 1, 2, 3, 4, 5, None)

    assert [level_shade(o, three) for o in three.options] == ["level-0", "level-2", "level-3"]
    assert [level_shade(o, six) for o in six.options] == [
        "level-0", "level-1", "level-1", "level-2", "level-2", "level-3", "level-nc",
    ]
    assert level_shade(None, three) == "level-nc"
