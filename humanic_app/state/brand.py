"""Settings → Brand: the logo, colours, font stack and footer text of the layout every block email is sent in."""

from __future__ import annotations

import reflex as rx

from humanic_app.services.design import brand
from humanic_app.state.auth import AuthState, field_messages, signed_in


def _typed(field: str, value: object) -> object:
    """The width as a whole number when the field holds one; anything else goes as typed, for the service
    to refuse at its field."""
    text = str(value if value is not None else "").strip()
    return int(text) if field == "logo_width" and text.isdigit() else text


class BrandSettingsState(AuthState):
    brand_loaded: bool = False
    brand_values: dict[str, str] = {}
    brand_errors: dict[str, str] = {}
    brand_saved: str = ""

    def _refresh_brand(self) -> None:
        with self._read_call() as session:
            values = brand.read(session=session).model_dump()
        self.brand_values = {field: str(value) for field, value in values.items()}
        self.brand_loaded = True

    @rx.event
    @signed_in
    def load_brand(self):
        self.brand_errors, self.brand_saved = {}, ""
        self._refresh_brand()

    @rx.event
    @signed_in
    def save_brand(self, form: dict):
        self.brand_saved = ""
        changes = {field: _typed(field, form.get(field)) for field in brand.FIELDS if field in form}
        with self._service_call("brand_errors", then=self._refresh_brand, words=field_messages) as session:
            brand.update(session=session, changes=changes)
            self.brand_saved = "Brand saved: emails not sent yet, scheduled ones included, go out with it."
