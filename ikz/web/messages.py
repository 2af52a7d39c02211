"""German texts for the API's errors, and which form field each belongs to."""

from __future__ import annotations

from ikz.web.base import Error

MIN_PASSWORD = 10

LABELS = {
    "firstName": "Vorname", "lastName": "Nachname", "email": "E-Mail", "phone": "Telefon",
    "salutation": "Anrede", "title": "Titel", "function": "Funktion", "consent": "Einwilligung",
    "currentPassword": "Bisheriges Passwort", "newPassword": "Neues Passwort", "username": "Benutzername",
    "description": "Beschreibung", "topicFieldIds": "Themenfelder", "legalForm": "Rechtsform",
    "legalFormText": "Rechtsform laut Quelle", "partners": "Partner", "partnersText": "Partner laut Quelle",
    "performedBy": "Aufgabenerledigung durch", "performedByOrganization": "ausführender Partner",
    "sinceText": "Seit (Text)", "startYear": "Beginn (Jahr)", "endYear": "Ende (Jahr)", "status": "Status",
    "savingsAmount": "Einsparung (Betrag)", "savingsCurrency": "Währung", "savingsPeriod": "Zeitraum",
    "savingsText": "Einsparung (Text)", "funding": "Förderung", "notes": "Anmerkungen",
    "sourceDocument": "Quelle", "sourceReference": "Fundstelle", "partOfId": "Teil von", "dataAsOf": "Stand",
    "kind": "Art", "date": "Datum", "file": "Datei",
}
ALIASES = {"password": "newPassword", "performerId": "performedByOrganization", "topicFields": "topicFieldIds",
           "partnerIds": "partners", "savings": "savingsAmount"}


def form_field(name: str | None) -> str | None:
    """The form field an API error names ('savings_amount' → 'savingsAmount', 'input.title' → 'title')."""
    if not name:
        return None
    name = name.rsplit(".", 1)[-1]
    head, *rest = name.split("_")
    camel = head + "".join(p[:1].upper() + p[1:] for p in rest)
    return ALIASES.get(camel, camel)


def _wait(seconds: int | None) -> str:
    if not seconds or seconds < 1:
        return "einen Moment"
    if seconds < 90:
        return "1 Sekunde" if seconds == 1 else f"{seconds} Sekunden"
    minutes = -(-seconds // 60)
    return f"{minutes} Minuten"


def german(error: Error) -> str:
    text = error.message or ""
    if error.code == "LOCAL":
        return text
    field = form_field(error.field)
    if error.code == "TOO_MANY_ATTEMPTS":
        return f"Zu viele Fehlversuche; bitte warten Sie {_wait(error.retry_after)} und versuchen Sie es dann erneut."
    if error.code == "CONFLICT":
        return ("Der Datensatz wurde inzwischen geändert oder es wartet bereits eine Änderung. "
                "Bitte laden Sie die Seite neu und prüfen Sie Ihre Angaben.")
    if error.code == "FORBIDDEN":
        return "Das dürfen Sie nicht: der Datensatz gehört nicht zu Ihrer Kommune."
    if field in ("newPassword", "currentPassword"):
        if field == "currentPassword":
            return "Das bisherige Passwort stimmt nicht."
        if "at least" in text:
            return f"Das Passwort muss mindestens {MIN_PASSWORD} Zeichen haben."
        if "username" in text:
            return "Das Passwort darf den Benutzernamen nicht enthalten."
        if "initial" in text or "differ" in text or "same" in text:
            return "Bitte wählen Sie ein neues Passwort, nicht das Start- oder bisherige Passwort."
        if "common" in text:
            return "Dieses Passwort ist zu verbreitet oder zu einfach; bitte wählen Sie ein anderes."
        if "at most" in text:
            return "Das Passwort ist zu lang."
        return "Bitte wählen Sie ein anderes Passwort."
    if field == "consent":
        return "Bitte bestätigen Sie die Einwilligung zur Veröffentlichung."
    if field == "email":
        return "Bitte geben Sie eine gültige E-Mail-Adresse an."
    if field == "phone":
        return "Die Telefonnummer darf nur Ziffern, Leerzeichen und + ( ) / - . enthalten."
    if field == "file":
        return document_file_message(text)
    if field == "partners":
        return "Bitte wählen Sie die Partner; Ihre eigene Kommune muss dabei sein."
    if field in LABELS:
        return f"Bitte prüfen Sie das Feld „{LABELS[field]}“."
    return "Die Eingabe konnte nicht gespeichert werden. Bitte prüfen Sie Ihre Angaben."


def document_file_message(text: str) -> str:
    """The document upload's refusals in German (service/documents/intake.py words them in English)."""
    if "empty" in text:
        return "Die Datei ist leer."
    if "larger than" in text:
        limit = text.split("larger than ", 1)[1].split(" MB", 1)[0]
        return f"Die Datei ist größer als {limit} MB."
    if "is not a" in text:
        return ("Die Datei ist kein PDF-, ODT-, DOCX-, XLSX-, PNG- oder JPEG-Dokument "
                "(erkannt am Inhalt, nicht am Dateinamen).")
    if "damaged" in text:
        return "Die Datei ist beschädigt oder kann nicht gelesen werden (etwa weil sie passwortgeschützt ist)."
    return "Bitte wählen Sie eine Datei."


def form_errors(errors: list[Error], known: set[str]) -> tuple[list[dict], dict[str, str]]:
    """(summary entries, messages per field) for a form whose fields are `known`."""
    summary, per_field = [], {}
    for error in errors:
        field = form_field(error.field)
        message = german(error)
        if field not in known:
            field = None
        if field and field in per_field:
            continue
        if field:
            per_field[field] = message
        summary.append({"field": field, "message": message})
    return summary, per_field


def local_error(field: str | None, message: str) -> Error:
    return Error(message=message, code="LOCAL", field=field, path=())
