"""Charts drawn on a framework's situations, shared by the profile, the team map and the reports.

Every radar of situations, in a page or a PDF, is drawn by :func:`situation_radar` from series
made by :func:`situation_series`, so the same figures always give the same picture.
"""

from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from grille.core.charts import RadarSeries, radar_chart

from . import grid as g


def situation_series(
    grid: g.Grid, means: Mapping[str, float | None], *, label: str, kind: str = "primary"
) -> RadarSeries:
    """One polygon of a situation radar: the mean of each situation of ``grid``, in its order,
    read from ``means`` (situation code → mean); a situation it lacks has no value."""
    return RadarSeries(label=label, values=[means.get(s.code) for s in grid.situations], kind=kind)


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
        short_labels=[s.code for s in grid.situations],
        series=series,
        max_value=top,
    )
