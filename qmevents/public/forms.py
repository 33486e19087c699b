"""The citizens' filter form: read from the query string (a GET form, so no CSRF token)."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from .. import labels
from ..models import District
from ..services.listings import ListingFilter


class ShanghaiDateField(DateField):
    """An <input type="date"> read as a day in Shanghai, with a message that says what to type."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            day = datetime.strptime(valuelist[0].strip(), "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date like 2025-09-15.")) from None
        self.data = day  # which years make sense is the service's rule (ListingFilter.errors)


class EventFilterForm(FlaskForm):
    """District, kind and dates. Choice checks live in services.listings.ListingFilter, so the
    selects accept any value here and the service's message is shown next to the field."""

    class Meta:
        csrf = False

    district = SelectField(_l("District"), validate_choice=False)
    kind = SelectField(_l("Kind of event"), validate_choice=False)
    date_from = ShanghaiDateField(_l("From"), validators=[Optional()])
    date_to = ShanghaiDateField(_l("Until"), validators=[Optional()])

    def __init__(self, *args, districts: list[District], locale: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = [("", _l("All districts"))] + [
            (d.name, d.label(locale)) for d in districts
        ]
        self.kind.choices = [("", _l("All kinds"))] + labels.choices(labels.KIND)

    def listing_filter(self) -> ListingFilter:
        """What the visitor chose, as the service reads it; fields that did not parse are None."""
        return ListingFilter(
            district=(self.district.data or "").strip() or None,
            kind=(self.kind.data or "").strip() or None,
            date_from=self.date_from.data if isinstance(self.date_from.data, date) else None,
            date_to=self.date_to.data if isinstance(self.date_to.data, date) else None,
        )

    def is_filtered(self) -> bool:
        return any(f.raw_data and f.raw_data[0].strip() for f in self)

    def add_errors(self, errors: dict[str, str]) -> None:
        """Show a service's {field: message} next to the matching field."""
        for name, message in errors.items():
            target = self._fields.get(name) or self.date_to
            if message not in target.errors:
                target.errors = [*target.errors, message]
