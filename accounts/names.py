"""What a name may hold: the first and last names and a passkey's name are shown in the admin, on
the security page and in the emails, so none may carry a line break or other control character
(a name that adds lines to a notice), nor a bidi embedding, override or isolate (U+202A-U+202E,
U+2066-U+2069: a name that reverses the text shown after it). Marks (U+200E, U+200F) and
joiners (U+200C, U+200D) stay allowed: names in many scripts need them.
"""

import unicodedata

from django.core.exceptions import ValidationError

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
REFUSED = "A name cannot contain line breaks, control characters or bidi overrides."


def problem(value: str) -> str | None:
    """Why `value` cannot be a name, or None."""
    if any(char in BIDI_CONTROLS or unicodedata.category(char) == "Cc" for char in value):
        return REFUSED
    return None


def check(**fields) -> None:
    """Raise ValidationError({field: [why]}) for each of `fields` that is not a valid name."""
    errors = {field: [why] for field, value in fields.items() if (why := problem(value or ""))}
    if errors:
        raise ValidationError(errors)
