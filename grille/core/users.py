"""The user model as a type, for the apps below `accounts` that may not import it.

`django.contrib.auth.models._User` exists only in django-stubs: its mypy plugin reads it as
settings.AUTH_USER_MODEL (accounts.User). The apps name the real model through it, and the
layering stays: nothing here imports `accounts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

__all__ = ["AnyUser", "AuthenticatedHttpRequest", "User"]

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User
else:
    from django.contrib.auth.base_user import AbstractBaseUser as User

# Who a request comes from: a signed-in person, or nobody.
AnyUser: TypeAlias = "User | AnonymousUser"


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind `login_required`: its user is signed in."""

    user: User
