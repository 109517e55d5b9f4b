"""Charts drawn on a framework's situations, shared by the profile, the team map and the reports."""

from collections.abc import Sequence

from django.utils.translation import gettext as _

from grille.core.charts import RadarSeries, radar_chart

from . import grid as g


def situation_radar(
    grid: g.Grid, series: Sequence[RadarSeries], *, chart_id: str, title: str, max_value: int | None = None
) -> str:
    """A radar of mean levels per situation; empty when the grid has fewer than three situations.

    ``max_value`` is the top of the scale, the grid's own level scale unless the values come
    from another one (a profile read through a crosswalk keeps its source's scale).
    """
    if len(grid.situations) < 3:
        # A radar needs three spokes; the table beside it still gives every score.
        return ""
    top = grid.level.max_value if max_value is None else max_value
    return radar_chart(
        chart_id=chart_id,
        title=title,
        description=_(
            "Moyenne des niveaux de pratique pour chacune des %(n)d situations, sur une échelle de 0 à %(max)d. "
            "Les valeurs figurent dans le tableau qui suit."
        ) % {"n": len(grid.situations), "max": top},
        axis_labels=[f"{s.code}. {s.label}" for s in grid.situations],
        series=series,
        max_value=top,
    )
