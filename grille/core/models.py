from django.db import models


class RateLimitCounter(models.Model):
    """Attempts counted by grille.core.ratelimit, in the database so that every gunicorn worker
    sees the same count. The key holds a keyed hash, never an address or an e-mail in clear."""

    key = models.CharField(max_length=100, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
