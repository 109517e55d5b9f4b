from django.db import models


class PoolRelease(models.Model):
    """The state of a pool of contributions (a campaign's results, a team's anonymous shares,
    the peers of a version): how many it published last, and whether it is withheld."""

    key = models.CharField(max_length=80, unique=True)
    released_count = models.PositiveIntegerField(default=0)
    # A published contribution left: nothing is shown until the next release (release.py).
    withheld = models.BooleanField(default=False)
    releases = models.PositiveIntegerField(default=0)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "publication d'un ensemble de contributions"

    def __str__(self) -> str:
        return self.key


class ReleasedAssessment(models.Model):
    """A positioning once published in a pool: if it comes back, it is not new to that pool."""

    pool = models.ForeignKey(PoolRelease, on_delete=models.CASCADE, related_name="+")
    assessment = models.ForeignKey("assessments.Assessment", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "assessment"], name="released_once_per_pool")]

    def __str__(self) -> str:
        return f"{self.pool} ← {self.assessment_id}"
