"""Rendering mails from `mail_templates/<name>.{subject.txt,txt,html}` with Jinja2.

Plain text is rendered without escaping, HTML with autoescaping; undefined variables
are errors, so a template and its caller cannot drift apart silently.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.config import get_settings

# Package data of the `mail_templates` package (the top-level mail_templates/ directory), wherever installed.
TEMPLATE_DIR = Path(str(importlib.resources.files("mail_templates")))
SERVICE_NAME = "Kooperationsdatenbank Interkommunale Zusammenarbeit"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@functools.lru_cache(maxsize=2)
def _environment(autoescape: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, context: dict[str, Any]) -> RenderedMail:
    settings = get_settings()
    values = {
        "support_contact": settings.support_contact,
        "public_base_url": settings.public_base_url.rstrip("/"),
        "service_name": SERVICE_NAME,
        **context,
    }
    text_env, html_env = _environment(False), _environment(True)
    subject = text_env.get_template(f"{template}.subject.txt").render(values)
    return RenderedMail(
        subject=" ".join(subject.split()),
        text=text_env.get_template(f"{template}.txt").render(values),
        html=html_env.get_template(f"{template}.html").render(values),
    )
