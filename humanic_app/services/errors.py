"""Errors services raise; HTTP routes and Reflex states turn them into answers the user can act on."""


class ServiceError(Exception):
    """Base: a message fit to show a user."""


class ValidationFailed(ServiceError):
    """Input that cannot be accepted; `field_errors` maps a field name to what is wrong with it."""

    def __init__(self, field_errors: dict[str, str]):
        self.field_errors = field_errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in field_errors.items()))


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class AuthenticationFailed(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


def require(row, *, noun: str, row_id: int):
    """The row, or NotFound saying which one is missing: what every get-by-id service does."""
    if row is None:
        raise NotFound(f"No {noun} with id {row_id}.")
    return row
