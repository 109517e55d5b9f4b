"""The kinds of generated file, registered by the apps that own their subject.

`files` sits below the apps (it imports core only): an app registers, from its AppConfig.ready(),
a `FileKind` per kind of file it builds, with the function that writes it and the rule that says
who may see and download it. `files` never imports the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from grille.core.users import AnyUser

if TYPE_CHECKING:
    from .models import GeneratedFile

# (percent 0–100, short French label) → None; also refreshes the job's heartbeat.
Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class FileKind:
    """How to build one kind of file, and who may have it.

    - `build(job, out, progress)` writes the whole file to the binary stream `out`, calling
      `progress` now and then; raising abandons the file.
    - `may_access(user, job)` is asked for the progress page and again at each download: the
      same rule as the request that asked for the file.
    - `on_download(user, job)` runs before the first byte leaves (e.g. a download record).
    - `back_url(job)` is where the page's « Retour » link goes.
    """

    kind: str
    title: Callable[[GeneratedFile], str]
    content_type: str
    build: Callable[[GeneratedFile, IO[bytes], Progress], None]
    may_access: Callable[[AnyUser, GeneratedFile], bool]
    back_url: Callable[[GeneratedFile], str]
    on_download: Callable[[AnyUser, GeneratedFile], None] | None = None


_KINDS: dict[str, FileKind] = {}


def register(kind: FileKind) -> None:
    """Make a kind known; registering the same kind twice is a programming error."""
    if kind.kind in _KINDS and _KINDS[kind.kind] is not kind:
        raise ValueError(f"File kind {kind.kind!r} is already registered")
    _KINDS[kind.kind] = kind


def get_kind(kind: str) -> FileKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise LookupError(f"Unknown file kind {kind!r}") from None


def is_registered(kind: str) -> bool:
    return kind in _KINDS
