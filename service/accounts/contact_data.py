"""The personal data of a contact person: validation and comparison.

Used when the ministry creates a contact, when the person confirms their data and when
they propose a change, so the same rules apply everywhere.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

from service.catalogue.models import Contact
from service.errors import InvalidInput

EMAIL = re.compile(r"^[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
PHONE = re.compile(r"^[0-9+()/\- .]{3,50}$")
SALUTATIONS = ("Frau", "Herr")

FIELD_LABELS = {
    "salutation": "Anrede",
    "title": "Titel",
    "first_name": "Vorname",
    "last_name": "Nachname",
    "function": "Funktion",
    "email": "E-Mail",
    "phone": "Telefon",
}


@dataclass
class ContactData:
    first_name: str
    last_name: str
    email: str
    salutation: str | None = None
    title: str | None = None
    function: str | None = None
    phone: str | None = None

    @classmethod
    def of(cls, contact: Contact) -> ContactData:
        return cls(**{f.name: getattr(contact, f.name) for f in fields(cls)})

    def to_json(self) -> dict[str, str | None]:
        return asdict(self)


def _text(value: str | None, name: str, limit: int, *, required: bool = False) -> str | None:
    value = " ".join(value.split()) if value else None
    if required and not value:
        raise InvalidInput(f"'{name}' is required.", field=name)
    if value and len(value) > limit:
        raise InvalidInput(f"'{name}' is longer than {limit} characters.", field=name)
    return value


def normalise(data: ContactData) -> ContactData:
    """Trim and check; raises InvalidInput naming the field."""
    first = _text(data.first_name, "firstName", 100, required=True)
    last = _text(data.last_name, "lastName", 100, required=True)
    if not any(ch.isalpha() for ch in last):
        raise InvalidInput("'lastName' must contain letters.", field="lastName")
    email = (data.email or "").strip()
    if not email or len(email) > 254 or not EMAIL.match(email):
        raise InvalidInput("'email' is not a valid e-mail address.", field="email")
    local, _, domain = email.rpartition("@")
    salutation = _text(data.salutation, "salutation", 20)
    if salutation is not None and salutation not in SALUTATIONS:
        raise InvalidInput(f"'salutation' is one of {', '.join(SALUTATIONS)} or empty.", field="salutation")
    phone = _text(data.phone, "phone", 50)
    if phone is not None and not PHONE.match(phone):
        raise InvalidInput("'phone' may contain digits, spaces and + ( ) / - . only.", field="phone")
    return ContactData(
        first_name=first,
        last_name=last,
        email=f"{local}@{domain.lower()}",
        salutation=salutation,
        title=_text(data.title, "title", 50),
        function=_text(data.function, "function", 255),
        phone=phone,
    )


def differences(old: ContactData, new: ContactData) -> list[tuple[str, str | None, str | None]]:
    return [(f.name, getattr(old, f.name), getattr(new, f.name))
            for f in fields(ContactData) if getattr(old, f.name) != getattr(new, f.name)]


def display_name(data: ContactData | Contact) -> str:
    parts = [data.salutation, data.title, data.first_name, data.last_name]
    return " ".join(p for p in parts if p)


async def addressed_name(account) -> str:
    """The name a mail to `account` uses: the contact person's, else the staff account's."""
    contact = await Contact.get_or_none(id=account.contact_id) if account.contact_id else None
    return (display_name(contact) if contact else "") or account.staff_name
