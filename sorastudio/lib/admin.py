"""What Django's admin of every app shares."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.contrib.auth.models import User
from django.db import models
from django.http import HttpRequest

Record = TypeVar("Record", bound=models.Model)


class ReadOnlyAdmin(admin.ModelAdmin[Record]):
    """Records the studio keeps for itself (the pipeline's, the audit trail): to look at, never to edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Record | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Record | None = None) -> bool:
        return False


def staff_user(request: HttpRequest) -> User:
    """The person using Django's admin, which lets in logged-in staff alone."""
    assert isinstance(request.user, User), "the admin is behind Django's staff login"
    return request.user
