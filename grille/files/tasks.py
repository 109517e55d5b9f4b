"""The worker's side of generated files (queue « files »)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task(queue_name="files")
def build_generated_file(job_id: int, attempt: int) -> str:
    return services.build_file(job_id=job_id, attempt=attempt)
