"""Email addresses as mailboxes: the one form under which an address is stored, looked up and
counted, so that every spelling that reaches one mailbox is one account and one quota.

An address is accepted and normalised in these steps (README, "Email addresses"):

1. The part before the @ is NFKC-normalised (fullwidth U+FF56 is `v`), then must be ASCII: Django's
   mailer cannot deliver to internationalised local parts (RFC 6531), so they are refused.
2. The domain goes through UTS #46 (email-validator: case folding, NFC, fullwidth and
   ideographic dots), then the four "deviation" characters are mapped as IDNA 2003 and UTS #46
   transitional processing did (sharp s -> ss, final sigma -> sigma, ZWJ and ZWNJ removed):
   browsers of both generations disagree on `straße.example`, so both of its readings name one
   mailbox here, the one that DNS and most mail hosts know (`strasse.example`).
3. Every domain label must be in one script (UTS #39 "highly restrictive"): Latin, Cyrillic,
   Greek... each alone, Latin together with the Chinese, Japanese or Korean scripts, and the
   common characters (digits, hyphen) anywhere: `paypal.com` spelt with a Cyrillic U+0430 is
   refused.
4. The stored form is all lowercase, the domain in its ASCII (IDNA/punycode) form. The local
   part is compared ignoring case (DESIGN.md: unique ignoring case), so it is stored lowercased.
"""

import unicodedata

import unicodedataplus
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email

# UTS #46 section 4, "deviation" characters, mapped as in transitional processing.
DEVIATIONS = str.maketrans({"\u00df": "ss", "\u03c2": "\u03c3", "\u200c": None, "\u200d": None})

# UTS #39 section 5.1: the scripts a character's script also counts as, so that Japanese
# (Han + Hiragana + Katakana), Chinese (Han + Bopomofo) and Korean (Han + Hangul) are each one
# script, and Latin may join any of them (the "highly restrictive" level of section 5.2).
AUGMENTED = {
    "Hani": {"Hanb", "Jpan", "Kore"},
    "Hira": {"Jpan"},
    "Kana": {"Jpan"},
    "Hang": {"Kore"},
    "Bopo": {"Hanb"},
    "Latn": {"Jpan", "Hanb", "Kore"},
}
ANY_SCRIPT = {"Zyyy", "Zinh"}  # Common and Inherited: digits, hyphen, combining marks

# No address is longer (64 before the @, 255 after): refused before any Unicode work.
MAX_INPUT_LENGTH = 320

INVALID = "invalid"
MIXED_SCRIPTS = "mixed_scripts"


def normalize_mailbox(raw) -> str:
    """The stored form of the mailbox `raw` names. Raises ValidationError (code "invalid" or
    "mixed_scripts") with a message for the person who typed it when Roster refuses it."""
    if not isinstance(raw, str) or "@" not in raw:
        raise ValidationError("Enter an email address, like name@example.com.", code=INVALID)
    if len(raw) > MAX_INPUT_LENGTH:
        raise ValidationError("This email address is too long.", code=INVALID)
    local, _, domain = raw.strip().rpartition("@")
    first = _validated(f"{unicodedata.normalize('NFKC', local)}@{domain}")
    mapped = first.domain.translate(DEVIATIONS)
    address = first if mapped == first.domain else _validated(f"{first.local_part}@{mapped}")
    for label in address.domain.split("."):
        if not _one_script(label):
            raise ValidationError(
                "The part after the @-sign mixes alphabets in %(label)s, as addresses made to "
                "look like another do. Type the address with the letters of one alphabet.",
                code=MIXED_SCRIPTS,
                params={"label": repr(label)},
            )
    return address.ascii_email.lower()


def mailbox_key(raw) -> str | None:
    """The stored form of the mailbox `raw` names, for look-ups and counters; None when Roster
    refuses the address (no account can have it)."""
    try:
        return normalize_mailbox(raw)
    except ValidationError:
        return None


def validate_mailbox(value) -> None:
    """A field validator: refuses what `normalize_mailbox` refuses."""
    normalize_mailbox(value)


def _validated(address):
    try:
        return validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValidationError(
            "Enter a valid email address: %(reason)s", code=INVALID, params={"reason": str(exc)}
        ) from None


def _one_script(label):
    """True when the label's characters share a script (UTS #39 resolved script set)."""
    shared = None
    for char in label:
        scripts = set(unicodedataplus.script_extensions(char))
        if scripts & ANY_SCRIPT:
            continue
        for script in list(scripts):
            scripts |= AUGMENTED.get(script, set())
        shared = scripts if shared is None else shared & scripts
        if not shared:
            return False
    return True
