"""A text progress bar for management commands doing long work."""

from django.core.management.base import OutputWrapper


class ProgressBar:
    """Redrawn after each batch: in place on a terminal, one line per batch otherwise (logs, tests)."""

    width = 30

    def __init__(self, out: OutputWrapper, unit: str = "répondants"):
        self.out = out
        self.unit = unit
        self.in_place = out.isatty()

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        filled = self.width * done // total
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {100 * done // total:3d} % ({done}/{total} {self.unit})"
        if self.in_place:
            self.out.write("\r" + line, ending="\n" if done >= total else "")
            self.out.flush()
        else:
            self.out.write(line)
