"""Migrations reversed without losing rows.

Going back past a migration that creates a table drops the table, and past one that adds a
column drops the column: whatever they held would be lost, and a later forward run would start
them empty (or, worse, with defaults that say something else: every peer share "released", new
record keys). Every such migration of the project ends with `keep_data(...)`:

- backwards, before the table or column goes, its rows or values are *parked*: copied, field by
  field, into a table of their own (`grille_parked_rows`), one JSON line per row;
- forwards, once the table or column exists again, the parked rows and values are put back with
  their primary keys and exact values (auto-dated fields keep their dates), then removed from the
  parking table.

A row whose required link points to a row deleted in the meantime is not put back (it would have
been deleted with it: CASCADE); an optional link to such a row comes back empty (SET_NULL). The
parking table is made by this module (raw SQL) rather than by a migration, so that no old
migration gains a dependency that databases already migrated could not satisfy.
`tests/reliability/test_migrations.py` checks that every migration creating a table or adding a
column ends with `keep_data` for it, and runs them all back to zero and forward with data.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.management.color import no_style
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Field, Model
from django.utils.duration import duration_string

TABLE = "grille_parked_rows"
BATCH = 2000

Keeps = tuple[str, tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]


def keep_data(
    app_label: str, models: Iterable[str] = (), columns: dict[str, Iterable[str]] | None = None
) -> migrations.RunPython:
    """The last operation of a migration that creates `models` and adds `columns` to others
    ({model: [field, ...]}): parks their data when going back, restores it when coming forward."""
    created = tuple(models)
    added = tuple((model, tuple(fields)) for model, fields in (columns or {}).items())

    def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if not _table_exists(schema_editor):
            return
        _restore_rows(apps, schema_editor, app_label, created)
        for model_name, fields in added:
            _restore_columns(apps, schema_editor, app_label, model_name, fields)
        if schema_editor.connection.vendor == "postgresql":
            # Check the links of the rows put back now: PostgreSQL will not build the migration's
            # indexes on a table with checks still pending.
            schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")

    def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        _ensure_table(schema_editor)
        for model_name in created:
            model = apps.get_model(app_label, model_name)
            for table_model in (model, *_through_models(model)):
                _park(schema_editor, _label(table_model), _rows(table_model))
        for model_name, fields in added:
            model = apps.get_model(app_label, model_name)
            for name in fields:
                field = model._meta.get_field(name)
                if field.many_to_many:
                    _park(schema_editor, _label(field.remote_field.through), _rows(field.remote_field.through))
                else:
                    _park(schema_editor, f"{_label(model)}#{name}", _values(model, field))

    # Read by the test that checks every migration keeps what it creates.
    keeps: Keeps = (app_label, created, added)
    backwards.keeps = keeps  # type: ignore[attr-defined]
    return migrations.RunPython(forwards, backwards)


# --- the parking table ---------------------------------------------------------------------


def _table_exists(schema_editor: BaseDatabaseSchemaEditor) -> bool:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        return TABLE in connection.introspection.table_names(cursor)


def _ensure_table(schema_editor: BaseDatabaseSchemaEditor) -> None:
    if _table_exists(schema_editor):
        return
    key = "BIGSERIAL PRIMARY KEY" if schema_editor.connection.vendor == "postgresql" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    schema_editor.execute(f"CREATE TABLE {TABLE} (id {key}, label VARCHAR(300) NOT NULL, payload TEXT NOT NULL)")
    schema_editor.execute(f"CREATE INDEX {TABLE}_label ON {TABLE} (label)")


def _label(model: type[Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _park(schema_editor: BaseDatabaseSchemaEditor, label: str, rows: Iterator[dict[str, Any]]) -> None:
    sql = f"INSERT INTO {TABLE} (label, payload) VALUES (%s, %s)"
    with schema_editor.connection.cursor() as cursor:
        batch: list[tuple[str, str]] = []
        for row in rows:
            batch.append((label, json.dumps(row, default=_encode)))
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _unpark(schema_editor: BaseDatabaseSchemaEditor, label: str) -> list[dict[str, Any]]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT payload FROM {TABLE} WHERE label = %s ORDER BY id", [label])
        rows = [json.loads(payload) for (payload,) in cursor.fetchall()]
        cursor.execute(f"DELETE FROM {TABLE} WHERE label = %s", [label])
    return rows


def _encode(value: object) -> object:
    """Every value exactly (DjangoJSONEncoder would round times to the millisecond)."""
    if isinstance(value, datetime.timedelta):
        return duration_string(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"valeur non prévue dans une migration : {type(value).__name__}")


# --- rows and columns ----------------------------------------------------------------------


def _through_models(model: type[Model]) -> list[type[Model]]:
    throughs = [f.remote_field.through for f in model._meta.local_many_to_many]
    return [through for through in throughs if through is not None and through._meta.auto_created]


def _rows(model: type[Model]) -> Iterator[dict[str, Any]]:
    fields = [f.attname for f in model._meta.concrete_fields]
    return model._base_manager.order_by("pk").values(*fields).iterator(chunk_size=BATCH)


def _values(model: type[Model], field: Field[Any, Any]) -> Iterator[dict[str, Any]]:
    pairs = model._base_manager.order_by("pk").values_list("pk", field.attname).iterator(chunk_size=BATCH)
    return ({"pk": pk, "value": value} for pk, value in pairs)


def _decode(field: Field[Any, Any], value: Any) -> Any:
    if value is None:
        return None
    if field.get_internal_type() == "BinaryField":
        return base64.b64decode(value)
    if field.get_internal_type() == "JSONField":
        return value
    return field.to_python(value)


def _existing(model: type[Model], ids: set[Any]) -> set[Any]:
    found: set[Any] = set()
    listed = list(ids)
    for start in range(0, len(listed), BATCH):
        found.update(model._base_manager.filter(pk__in=listed[start : start + BATCH]).values_list("pk", flat=True))
    return found


def _restore_rows(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, app_label: str, model_names: tuple[str, ...]
) -> None:
    models: list[type[Model]] = []
    for name in model_names:
        model = apps.get_model(app_label, name)
        models.extend([model, *_through_models(model)])
    parked = {model: _unpark(schema_editor, _label(model)) for model in models}
    # Rows coming back together may point at each other (a link added after both tables).
    coming: dict[type[Model], set[Any]] = {
        model: {row[model._meta.pk.attname] for row in rows} for model, rows in parked.items()
    }
    for model in _parents_first(list(parked)):
        if parked[model]:
            _insert(schema_editor, model, _linked(model, parked[model], coming))


def _parents_first(models: list[type[Model]]) -> list[type[Model]]:
    """The models in an order where a row's link targets are inserted before it (where links
    run in a circle, the order of creation is kept: constraints are then checked at commit)."""
    ordered: list[type[Model]] = []
    waiting = list(models)
    while waiting:
        ready = [
            model for model in waiting
            if not any(
                f.related_model in waiting and f.related_model is not model
                for f in model._meta.concrete_fields if f.is_relation
            )
        ]
        step = ready or waiting[:1]
        ordered.extend(step)
        waiting = [model for model in waiting if model not in step]
    return ordered


def _linked(model: type[Model], rows: list[dict[str, Any]], coming: dict[type[Model], set[Any]]) -> list[dict[str, Any]]:
    """The rows whose links still lead somewhere; optional links to vanished rows emptied."""
    for field in model._meta.concrete_fields:
        if not field.is_relation or field.related_model is None:
            continue
        target: Any = field.related_model
        wanted = {row[field.attname] for row in rows if row.get(field.attname) is not None}
        alive = _existing(target, wanted) | (coming.get(target, set()) & wanted)
        kept = []
        for row in rows:
            value = row.get(field.attname)
            if value is None or value in alive:
                kept.append(row)
            elif field.null:
                kept.append({**row, field.attname: None})
        rows = kept
    return rows


def _insert(schema_editor: BaseDatabaseSchemaEditor, model: type[Model], rows: list[dict[str, Any]]) -> None:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    for field in fields.values():
        # Dates come back as they were, not as "now".
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            field.auto_now = field.auto_now_add = False  # type: ignore[attr-defined]
    objects = [model(**{name: _decode(fields[name], value) for name, value in row.items() if name in fields}) for row in rows]
    model._base_manager.bulk_create(objects, batch_size=BATCH)
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [model]):
        schema_editor.execute(sql)


def _restore_columns(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, app_label: str, model_name: str, names: tuple[str, ...]
) -> None:
    model = apps.get_model(app_label, model_name)
    for name in names:
        field = model._meta.get_field(name)
        if field.many_to_many:
            through = field.remote_field.through
            rows = _unpark(schema_editor, _label(through))
            if rows:
                _insert(schema_editor, through, _linked(through, rows, {}))
            continue
        assert isinstance(field, Field)
        parked = _unpark(schema_editor, f"{_label(model)}#{name}")
        if not parked:
            continue
        values = {row["pk"]: row["value"] for row in parked}
        if field.is_relation and field.related_model is not None:
            target: Any = field.related_model
            alive = _existing(target, {v for v in values.values() if v is not None})
            # An optional link to a vanished row comes back empty; a required one keeps its default.
            values = {pk: v for pk, v in values.items() if v is None or v in alive or field.null}
            values = {pk: (v if v is None or v in alive else None) for pk, v in values.items()}
        present = _existing(model, set(values))
        objects = [model(pk=pk, **{field.attname: _decode(field, values[pk])}) for pk in present]
        model._base_manager.bulk_update(objects, [field.name], batch_size=BATCH)

