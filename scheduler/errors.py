"""Typed errors of the application core; the API maps them to HTTP statuses."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence


class CadenceError(Exception):
    """Base class of every error the core raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(CadenceError):
    """The object does not exist (or is outside the caller's clinics)."""

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"{kind} {object_id!r} not found")
        self.kind = kind
        self.object_id = object_id


class Conflict(CadenceError):
    """The request clashes with existing state; `existing_id` names the clashing object."""

    def __init__(self, detail: str, existing_id: str | None = None) -> None:
        super().__init__(detail)
        self.existing_id = existing_id


class Gone(CadenceError):
    """The object existed but can no longer be used (`reason`: expired, revoked, closed)."""

    def __init__(self, kind: str, object_id: str, reason: str) -> None:
        super().__init__(f"{kind} {object_id!r} is {reason}")
        self.kind = kind
        self.object_id = object_id
        self.reason = reason


class AlreadyUsed(Conflict):
    """A single-use object (a check-in link) was used already."""

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"{kind} {object_id!r} was used already", existing_id=object_id)
        self.kind = kind


class ValidationFailed(CadenceError):
    """Semantically invalid input: field name -> messages."""

    def __init__(self, errors: Mapping[str, Sequence[str]], detail: str | None = None) -> None:
        self.errors = {field: list(messages) for field, messages in errors.items()}
        super().__init__(detail or "The request has invalid fields.")

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})


class PreconditionFailed(CadenceError):
    """The caller's expected version is stale."""

    def __init__(self, kind: str, object_id: str, expected: int | Collection[int] | None,
                 actual: int) -> None:
        named = ("any" if expected is None else str(expected) if isinstance(expected, int)
                 else " or ".join(str(v) for v in sorted(expected)))
        super().__init__(
            f"{kind} {object_id!r} is at version {actual}, not {named}; fetch it again"
        )
        self.kind = kind
        self.object_id = object_id
        self.expected = expected
        self.actual = actual


class IdempotencyInFlight(Conflict):
    """A request with the same idempotency key is still being processed."""


class IdempotencyMismatch(CadenceError):
    """An idempotency key was reused with a different request."""
