"""Framework and resource files: how they are read, and the pydantic models that describe them.

A file is read with the line of each of its nodes, then validated by :class:`FrameworkFile` or
:class:`ResourceFile`. The first validation error becomes one French message naming its place in
the file (``axes[1].situations[0].practices[2].code``); the reader can then give its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Annotated, Protocol, Self, TypeVar

import yaml
from django.core.exceptions import ValidationError as ModelValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from .enums import DimensionRole, VersionStatus
from .models import Resource, ResourceKind

SUPPORTED_FORMAT = 1

# The place of a node in a file: keys and list indexes from the root, as pydantic's ``loc``.
Loc = tuple[str | int, ...]

# Raised by the validators below with a message of their own (see :func:`_rule`).
RULE = "grille_rule"


class FrameworkFileError(ValueError):
    """The file does not describe a valid framework version; the message says where.

    ``path`` is the place of the offending node, so that the reader of a file can give its line.
    """

    def __init__(self, message: str, path: Loc | None = None) -> None:
        super().__init__(message)
        self.path = path


# --- Reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataFile:
    """A parsed file, with the line each of its nodes starts on."""

    data: object
    lines: Mapping[Loc, int]

    def line_of(self, path: Loc) -> int | None:
        """The line of the node at ``path``, or of the closest node holding it (a missing field:
        the item that should hold it)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def read_data_file(path: Path) -> DataFile:
    """Read a YAML file, or a JSON one if its name ends with ``.json``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FrameworkFileError(_("Fichier illisible : %(path)s (%(err)s).") % {"path": path, "err": exc.strerror}) from exc
    try:
        if str(path).endswith(".json"):
            return DataFile(json.loads(text), _json_lines(text))
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise FrameworkFileError(_("Fichier mal formé : %(err)s") % {"err": exc}) from exc
    return DataFile(data, _node_lines(root))


def _json_lines(text: str) -> dict[Loc, int]:
    # JSON is read as the YAML it also is, for its positions only: a text YAML cannot compose
    # gives no lines, and errors then name the place only.
    try:
        return _node_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return {}


def _node_lines(root: yaml.Node | None) -> dict[Loc, int]:
    """The line each node starts on, by its place; a key's line for the value it holds."""
    lines: dict[Loc, int] = {(): 1}

    def walk(node: yaml.Node, path: Loc) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    lines.setdefault((*path, key.value), key.start_mark.line + 1)
                    walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*path, i)] = item.start_mark.line + 1
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return lines


# --- Errors ------------------------------------------------------------------------------------


def _rule(message: str, at: Loc = (), /, **params: object) -> PydanticCustomError:
    """An error with its own message, for what a type alone cannot say.

    ``at`` leads from the node being validated to the offending one; ``%(where)s`` in the message
    is the place of the item holding the offending node.
    """
    return PydanticCustomError(RULE, "{message}", {"message": message, "at": at, "params": params})


def _otherwise(message: Promise, *, value_as: str = "value", **params: object) -> WrapValidator:
    """Report any error of the annotated field with ``message``, the refused value as ``value_as``."""

    def validate(value: object, handler: ValidatorFunctionWrapHandler) -> object:
        try:
            return handler(value)
        except ValidationError as exc:
            raise _rule(str(message), **{value_as: value}, **params) from exc

    return WrapValidator(validate)


def _place(path: Loc) -> str:
    """``axes[1].situations[0]``: a place as messages name it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or "racine"


def _file_error(error: ErrorDetails) -> FrameworkFileError:
    loc: Loc = tuple(error["loc"])
    if error["type"] == RULE:
        ctx = error.get("ctx", {})
        path = loc + ctx["at"]
        return FrameworkFileError(ctx["message"] % {"where": _place(path[:-1]), **ctx["params"]}, path)
    if not loc:
        return FrameworkFileError(_("Le fichier doit contenir un objet YAML ou JSON."))
    if error["type"] == "missing":
        message = _("%(where)s : le champ « %(key)s » est obligatoire.")
    elif isinstance(loc[-1], int):
        # Every list of a file is a list of objects (codes, whose errors are rules, aside).
        return FrameworkFileError(_("%(where)s : un objet (clé: valeur) est attendu.") % {"where": _place(loc)}, loc)
    else:
        message = _("%(where)s : le champ « %(key)s » n'a pas le bon type.")
    return FrameworkFileError(message % {"where": _place(loc[:-1]), "key": loc[-1]}, loc)


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: object) -> Model:
    """``data`` as ``model``, or a :class:`FrameworkFileError` for its first error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _file_error(exc.errors()[0]) from exc


def _check_unique(values: Iterable[tuple[Loc, object]], message: str) -> None:
    """Refuse the first value seen twice, at its place (``code`` names it in the message)."""
    seen: set[object] = set()
    for at, value in values:
        if value in seen:
            raise _rule(message, at, code=value)
        seen.add(value)


class _Coded(Protocol):
    code: str


def _codes_at(at: Loc, items: Iterable[_Coded]) -> Iterator[tuple[Loc, str]]:
    """The code of each item of the list at ``at``, with its place."""
    return (((*at, i, "code"), item.code) for i, item in enumerate(items))


# --- Models ------------------------------------------------------------------------------------


class _Item(BaseModel):
    """An object of a file. Codes and labels written as numbers are read as text."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: object) -> object:
        """Refuse unknown fields (a typo must not be silently ignored); an empty or null field is an absent one."""
        if not isinstance(data, dict):
            return data
        unknown = sorted(set(data) - set(cls.model_fields), key=str)
        if unknown:
            raise _rule(
                _("%(where)s : champ inconnu « %(key)s » (champs possibles : %(ok)s)."),
                (str(unknown[0]),),
                key=unknown[0],
                ok=", ".join(sorted(cls.model_fields)),
            )
        return {key: value for key, value in data.items() if value not in (None, "")}


def _supported(fmt: int) -> int:
    if fmt != SUPPORTED_FORMAT:
        raise _rule(
            _("format : la version de format %(fmt)s n'est pas prise en charge (attendu : %(ok)s)."),
            fmt=fmt,
            ok=SUPPORTED_FORMAT,
        )
    return fmt


# ``1``, not ``"1"``; left out of the validated data.
Format = Annotated[StrictInt, AfterValidator(_supported), Field(exclude=True)]


def _iso_date(value: object) -> object:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- Translations and practice guides --------------------------------------------------------
#
# A version is written in its ``language`` (French for the 2024 grid); ``translations`` on each
# labelled object give its text in other languages, keyed by language code. They translate the
# original, which stays the reference: pages show it beside the translation. Translations and
# practice guides are *annotations*: they are left out of the content hash, so that they can be
# added to or corrected in a published version without changing what people answered.

LANGUAGE_PATTERN = r"^[a-z]{2,3}$"
Language = Annotated[
    str,
    StringConstraints(pattern=LANGUAGE_PATTERN),
    _otherwise(gettext_lazy("%(where)s : code de langue attendu, en minuscules (par exemple « en »)."), value_as="language"),
]
# Fields of the file that are annotations, left out of the content hash (see :func:`core_content`).
ANNOTATIONS = frozenset({"translations", "guide", "guide_note", "language"})


class FrameworkTranslation(_Item):
    name: str


class VersionTranslation(_Item):
    title: str
    source: str = ""
    guide_note: str = ""


class OptionTranslation(_Item):
    label: str


class DimensionTranslation(_Item):
    label: str
    help: str = ""


class GroupTranslation(_Item):
    """An axis or a situation, in another language."""

    label: str
    description: str = ""


class Guide(_Item):
    """What a practice means and what each level looks like: the product's own proposal.

    ``levels`` maps codes of the level scale to a sentence (« Ponctuellement : … »).
    """

    summary: str
    levels: dict[str, str] = Field(default_factory=dict)


class PracticeTranslation(_Item):
    label: str
    guide: Guide | None = None


class FrameworkInfo(_Item):
    code: str
    name: str
    publisher: str = ""
    translations: dict[Language, FrameworkTranslation] = Field(default_factory=dict)


class VersionInfo(_Item):
    code: str
    title: str
    source: str = ""
    source_date: Annotated[
        Annotated[date, Strict()] | None,
        BeforeValidator(_iso_date),
        _otherwise(gettext_lazy("version.source_date : date attendue au format AAAA-MM-JJ.")),
    ] = None
    status: Annotated[
        VersionStatus, _otherwise(gettext_lazy("version.status : « published » ou « draft » attendu."))
    ] = VersionStatus.DRAFT
    # The language the version is written in: its labels are the original.
    language: Language = "fr"
    # Says where the practice guides come from (required when a practice has one).
    guide_note: str = ""
    translations: dict[Language, VersionTranslation] = Field(default_factory=dict)


class Option(_Item):
    code: str
    label: str
    value: Annotated[StrictInt | None, _otherwise(gettext_lazy("%(where)s.value : nombre entier attendu."))] = None
    partnership: Annotated[
        StrictBool, _otherwise(gettext_lazy("%(where)s.partnership : true ou false attendu."))
    ] = Field(default=False, exclude_if=lambda partnership: not partnership)
    translations: dict[Language, OptionTranslation] = Field(default_factory=dict)


class Dimension(_Item):
    code: str
    role: Annotated[
        DimensionRole,
        _otherwise(
            gettext_lazy("%(where)s.role : « %(role)s » inconnu (attendu : %(ok)s)."),
            value_as="role",
            ok=", ".join(DimensionRole.values),
        ),
    ]
    label: str
    help: str = ""
    options: list[Option]
    translations: dict[Language, DimensionTranslation] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_options(self) -> Self:
        _check_unique(_codes_at(("options",), self.options), _("%(where)s.code : code en double."))
        return self


class Practice(_Item):
    code: str
    label: str
    guide: Guide | None = None
    translations: dict[Language, PracticeTranslation] = Field(default_factory=dict)


class Situation(_Item):
    code: str
    label: str
    description: str = ""
    practices: list[Practice]
    translations: dict[Language, GroupTranslation] = Field(default_factory=dict)


class Axis(_Item):
    code: str
    label: str
    description: str = ""
    situations: list[Situation]
    translations: dict[Language, GroupTranslation] = Field(default_factory=dict)


def _not_empty(axes: list[Axis]) -> list[Axis]:
    if not axes:
        raise _rule(_("axes : au moins un axe est attendu."))
    return axes


class FrameworkFile(_Item):
    """A framework version (see docs/format-referentiel.md)."""

    format: Format
    framework: FrameworkInfo
    version: VersionInfo
    dimensions: list[Dimension]
    axes: Annotated[list[Axis], AfterValidator(_not_empty)]

    @model_validator(mode="after")
    def _one_dimension_per_role(self) -> Self:
        roles = [dimension.role.value for dimension in self.dimensions]
        _check_unique(
            ((("dimensions", i, "role"), role) for i, role in enumerate(roles)),
            _("%(where)s.role : rôle en double."),
        )
        missing = set(DimensionRole.values) - set(roles)
        if missing:
            raise _rule(
                _("dimensions : il manque les rôles %(roles)s."),
                ("dimensions",),
                roles=", ".join(sorted(missing)),
            )
        return self

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        """Codes of axes, situations and practices are each unique in the whole version."""
        situations = [
            (("axes", i, "situations", j), situation)
            for i, axis in enumerate(self.axes)
            for j, situation in enumerate(axis.situations)
        ]
        duplicate = _("%(where)s.code : code « %(code)s » en double.")
        _check_unique(chain.from_iterable(_codes_at((*at, "practices"), s.practices) for at, s in situations), duplicate)
        _check_unique((((*at, "code"), situation.code) for at, situation in situations), duplicate)
        _check_unique(_codes_at(("axes",), self.axes), duplicate)
        return self

    @model_validator(mode="after")
    def _complete_if_published(self) -> Self:
        """What a published version needs beyond a well-formed file: people answer every part of it.

        A draft may be loaded half-written and completed in the admin; publishing it runs these checks.
        """
        if self.version.status != VersionStatus.PUBLISHED:
            return self
        for i, dimension in enumerate(self.dimensions):
            if not dimension.options:
                raise _rule(
                    _("dimensions[%(i)d].options : au moins une modalité est attendue."),
                    ("dimensions", i, "options"),
                    i=i,
                )
            if dimension.role == DimensionRole.LEVEL and all(option.value is None for option in dimension.options):
                raise _rule(
                    _("dimensions[%(i)d].options : le niveau de pratique doit avoir au moins une modalité avec une valeur."),
                    ("dimensions", i, "options"),
                    i=i,
                )
        for i, axis in enumerate(self.axes):
            if not axis.situations:
                raise _rule(
                    _("axes[%(i)d] (« %(code)s ») : au moins une situation est attendue."),
                    ("axes", i, "situations"),
                    i=i,
                    code=axis.code,
                )
            for j, situation in enumerate(axis.situations):
                if not situation.practices:
                    raise _rule(
                        _("axes[%(i)d].situations[%(j)d] (« %(code)s ») : au moins une pratique est attendue."),
                        ("axes", i, "situations", j, "practices"),
                        i=i,
                        j=j,
                        code=situation.code,
                    )
        return self


    def _translated(self) -> Iterator[tuple[Loc, _Item, dict[str, _Item], tuple[str, ...]]]:
        """Each translatable object: its place, itself, its translations, the text fields they carry."""
        yield ("framework",), self.framework, dict(self.framework.translations), ("name",)
        yield ("version",), self.version, dict(self.version.translations), ("title", "source", "guide_note")
        for i, dimension in enumerate(self.dimensions):
            yield ("dimensions", i), dimension, dict(dimension.translations), ("label", "help")
            for j, option in enumerate(dimension.options):
                yield ("dimensions", i, "options", j), option, dict(option.translations), ("label",)
        for i, axis in enumerate(self.axes):
            yield ("axes", i), axis, dict(axis.translations), ("label", "description")
            for j, situation in enumerate(axis.situations):
                at = ("axes", i, "situations", j)
                yield at, situation, dict(situation.translations), ("label", "description")
                for k, practice in enumerate(situation.practices):
                    yield (*at, "practices", k), practice, dict(practice.translations), ("label", "guide")

    @model_validator(mode="after")
    def _translations_complete(self) -> Self:
        """A translation is whole or absent: once a language appears anywhere in the file, every
        label, description, question and guide of the original has its text in that language."""
        objects = list(self._translated())
        languages = sorted({language for *_rest, translations, _fields in objects for language in translations})
        if self.version.language in languages:
            raise _rule(
                _("%(where)s : « %(language)s » est la langue de l'original (version.language), pas une traduction."),
                ("version", "translations", self.version.language),
                language=self.version.language,
            )
        for at, item, translations, fields in objects:
            for language in languages:
                translation = translations.get(language)
                if translation is None:
                    raise _rule(
                        _("%(where)s : il manque la traduction « %(language)s » (une traduction est complète ou absente)."),
                        (*at, "translations", language),
                        language=language,
                    )
                for name in fields:
                    if getattr(item, name) and not getattr(translation, name):
                        raise _rule(
                            _("%(where)s : il manque « %(key)s », présent dans l'original."),
                            (*at, "translations", language, name),
                            key=name,
                        )
                original, translated = getattr(item, "guide", None), getattr(translation, "guide", None)
                if isinstance(original, Guide) and isinstance(translated, Guide) and set(original.levels) != set(translated.levels):
                    raise _rule(
                        _("%(where)s : la traduction doit décrire les mêmes niveaux que l'original (%(ok)s)."),
                        (*at, "translations", language, "guide", "levels"),
                        ok=", ".join(original.levels),
                    )
        return self

    @model_validator(mode="after")
    def _guides_fit_the_scale(self) -> Self:
        """A guide describes levels of the scale; and where guides come from is said once for all."""
        level = next((d for d in self.dimensions if d.role == DimensionRole.LEVEL), None)
        codes = [option.code for option in level.options] if level else []
        guided = False
        for i, axis in enumerate(self.axes):
            for j, situation in enumerate(axis.situations):
                for k, practice in enumerate(situation.practices):
                    guides = [practice.guide, *(t.guide for t in practice.translations.values())]
                    for guide in guides:
                        guided = guided or guide is not None
                        unknown = [code for code in (guide.levels if guide else {}) if code not in codes]
                        if unknown:
                            raise _rule(
                                _("%(where)s : « %(code)s » n'est pas une modalité du niveau de pratique (attendu : %(ok)s)."),
                                ("axes", i, "situations", j, "practices", k, "guide", "levels", unknown[0]),
                                code=unknown[0],
                                ok=", ".join(codes),
                            )
        if guided and not self.version.guide_note:
            raise _rule(
                _("%(where)s : dites d'où viennent les aides des pratiques (« guide_note », obligatoire dès qu'une pratique en a une)."),
                ("version", "guide_note"),
            )
        return self


def core_content(data: object) -> object:
    """Validated data without its annotations (translations, guides, language): what people answer.

    The content hash is computed on it, so that a published version can gain or correct a
    translation or a guide while staying the same version.
    """
    if isinstance(data, dict):
        return {key: core_content(value) for key, value in data.items() if key not in ANNOTATIONS}
    if isinstance(data, list):
        return [core_content(value) for value in data]
    return data


def _codes(value: object, info: ValidationInfo) -> object:
    """A list of codes, each text or a whole number."""
    if not isinstance(value, list):
        raise _rule(_("%(where)s.%(key)s : une liste de codes est attendue."), key=info.field_name)
    for i, code in enumerate(value):
        # YAML reads 7.10 as the number 7.1: a dotted code must be quoted to keep its text.
        if isinstance(code, (bool, float)) or not isinstance(code, (str, int)) or code == "":
            raise _rule(
                _('%(where)s.%(key)s[%(i)s] : code attendu, entre guillemets (par exemple "1.1").'),
                key=info.field_name,
                i=i,
            )
    return value


Codes = Annotated[list[str], BeforeValidator(_codes)]
# File key → model field, for the three levels a resource can be attached to.
ATTACHMENTS = {"practices": "practice_codes", "situations": "situation_codes", "axes": "axis_codes"}


class ResourceTranslation(_Item):
    """A resource's description in another language; a title only for a work that has one there."""

    description: Annotated[str, StringConstraints(strip_whitespace=True)]
    title: str = ""


class ResourceEntry(_Item):
    """A resource, attached by code to practices, situations or axes (the model's ``*_codes``)."""

    code: str
    title: str
    kind: Annotated[
        ResourceKind,
        _otherwise(
            gettext_lazy("%(where)s.kind : « %(kind)s » inconnu (attendu : %(ok)s)."),
            value_as="kind",
            ok=", ".join(ResourceKind.values),
        ),
    ]
    publisher: str = ""
    # Only an address the source gives: a resource without one is named, not linked.
    url: str = ""
    description: Annotated[str, StringConstraints(strip_whitespace=True)] = ""
    language: str = "fr"
    translations: dict[Language, ResourceTranslation] = Field(default_factory=dict)
    practices: Codes = Field(default_factory=list, serialization_alias=ATTACHMENTS["practices"])
    situations: Codes = Field(default_factory=list, serialization_alias=ATTACHMENTS["situations"])
    axes: Codes = Field(default_factory=list, serialization_alias=ATTACHMENTS["axes"])

    @model_validator(mode="after")
    def _fits_the_model(self) -> Self:
        if not (self.practices or self.situations or self.axes):
            # At the first attachment field, so that the message names the resource.
            raise _rule(
                _("%(where)s : rattachez la ressource à au moins une pratique, une situation ou un axe."),
                ("practices",),
            )
        # The model's own checks (URL, slug, lengths), reported at their place in the file.
        try:
            Resource(**self.model_dump(mode="json", by_alias=True)).full_clean(
                exclude=["framework"], validate_unique=False, validate_constraints=False
            )
        except ModelValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise _rule("%(where)s.%(key)s : %(message)s", (field,), key=field, message=messages[0]) from exc
        return self


class ResourceFile(_Item):
    """The « Pour aller plus loin » resources of a framework (schema at the top of the shipped file)."""

    format: Format
    framework: str
    resources: list[ResourceEntry]
    # Codes of resources once shipped and since taken out: loading the file deletes them.
    withdrawn: Codes = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        _check_unique(_codes_at(("resources",), self.resources), _("%(where)s.code : code « %(code)s » en double."))
        kept = {resource.code for resource in self.resources}
        for i, code in enumerate(self.withdrawn):
            if code in kept:
                raise _rule(_("withdrawn[%(i)d] : « %(code)s » est retirée mais encore dans la liste des ressources."), ("withdrawn", i), i=i, code=code)
        return self

