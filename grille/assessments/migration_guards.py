"""Migrations reversed without losing rows: the reverse of a migration that creates a table
refuses while the table holds rows, instead of dropping them with it."""

from collections.abc import Callable
from typing import Any

from django.db.migrations.exceptions import IrreversibleError


def refuse_to_drop(app_label: str, model_name: str, what: str) -> Callable[[Any, Any], None]:
    """A RunPython reverse function, placed after the table's creation: it runs before the table
    is dropped and refuses, naming the rows, when there are any."""

    def reverse(apps: Any, schema_editor: Any) -> None:
        count = apps.get_model(app_label, model_name).objects.count()
        if count:
            raise IrreversibleError(
                f"Retour en arrière refusé : il effacerait {count} {what} ({app_label}.{model_name}). "
                "Rien n'a été modifié. Exportez ou supprimez d'abord ces lignes si ce retour est voulu."
            )

    return reverse
