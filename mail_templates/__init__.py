"""Mail templates (package data): `<name>.{subject.txt,txt,html}`, loaded with importlib.resources."""
