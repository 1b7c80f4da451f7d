"""Email addresses as mailboxes: every spelling of one mailbox is one key; look-alikes refused."""

import idna
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from accounts.mailboxes import MIXED_SCRIPTS, mailbox_key, normalize_mailbox

CYRILLIC_A = "\u0430"
CYRILLIC_O = "\u043e"
GREEK_OMICRON = "\u03bf"
SHARP_S = "\u00df"
CAPITAL_SHARP_S = "\u1e9e"
FINAL_SIGMA = "\u03c2"


def fullwidth(text):
    """`text` with its ASCII letters and digits in their fullwidth forms (U+FF01..U+FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("victim@example.com", "victim@example.com"),
        ("  Victim@EXAMPLE.com ", "victim@example.com"),
        (f"victim@{fullwidth('e')}xample.com", "victim@example.com"),
        (fullwidth("victim") + "@" + fullwidth("example") + ".com", "victim@example.com"),
        ("victim@example\uff0ecom", "victim@example.com"),  # fullwidth full stop
        (f"victim@stra{SHARP_S}e.example", "victim@strasse.example"),
        (f"victim@STRA{CAPITAL_SHARP_S}E.example", "victim@strasse.example"),
        ("victim@xn--strae-oqa.example", "victim@strasse.example"),  # the IDNA 2008 form of ß
        ("victim@STRASSE.EXAMPLE", "victim@strasse.example"),
        ("v@\u043f\u0440\u0438\u043c\u0435\u0440.com", "v@xn--e1afmkfd.com"),  # Cyrillic alone
        ("v@XN--E1AFMKFD.com", "v@xn--e1afmkfd.com"),
        ("v@\u03c3\u03af\u03c3\u03c5\u03c6\u03bf" + FINAL_SIGMA + ".gr", "v@xn--kxa6akbbkh.gr"),
        ("v@\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3.gr", "v@xn--kxa6akbbkh.gr"),
        ("v@\u4f8b\u3048.jp", "v@xn--r8jz45g.jp"),  # Han with Hiragana: Japanese, one script
        ("v@abc\u30ab.jp", "v@xn--abc-mj4b.jp"),  # Latin with Katakana is allowed (UTS #39)
    ],
)
def test_spellings_of_one_mailbox_have_one_stored_form(spelling, key):
    assert normalize_mailbox(spelling) == key
    assert normalize_mailbox(key) == key  # the stored form is its own key


@pytest.mark.parametrize(
    "look_alike",
    [
        f"victim@p{CYRILLIC_A}ypal.com",
        f"victim@g{CYRILLIC_O}{CYRILLIC_O}gle.com",
        f"victim@micr{GREEK_OMICRON}soft.com",
        f"victim@ex{CYRILLIC_A}mple.com",
        "victim@xn--pple-43d.com",  # the ASCII form of a Cyrillic-a "apple" is refused too
        "v@\u4f8b\u3048\ud55c.jp",  # Japanese and Korean in one label
    ],
)
def test_labels_that_mix_scripts_are_refused(look_alike):
    with pytest.raises(ValidationError) as refused:
        normalize_mailbox(look_alike)

    assert refused.value.code == MIXED_SCRIPTS
    assert "mixes alphabets" in refused.value.messages[0]
    assert mailbox_key(look_alike) is None


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "no-at-sign",
        "a@localhost",
        "a@example.com.",
        "\ud800@x.com",
        "a\x00b@example.com",
        "\u0436@example.com",  # non-ASCII before the @: Django's mailer cannot deliver there
        "a" * 400 + "@example.com",
        '"quoted"@example.com',
        "a@[127.0.0.1]",
        "a@ex\u00adample.com",  # a soft hyphen hides in the name
        "a@exa\u200dmple.com",  # so does a zero-width joiner
    ],
)
def test_what_is_not_a_deliverable_address_is_refused(bad):
    with pytest.raises(ValidationError):
        normalize_mailbox(bad)
    assert mailbox_key(bad) is None


# --- Properties over spellings -----------------------------------------------------------------

LOCAL = st.from_regex(r"\A[a-z0-9]([a-z0-9._+-]{0,20}[a-z0-9])?\Z").filter(lambda s: ".." not in s)
LABEL = st.from_regex(r"\A[a-z]([a-z0-9-]{0,15}[a-z0-9])?\Z").filter(lambda s: "--" not in s)
TLD = st.sampled_from(["com", "org", "example", "de", "net"])


@st.composite
def spelling_of(draw, text):
    """`text` with each character, at random, upper-cased and/or made fullwidth."""
    out = []
    for char in text:
        if draw(st.booleans()):
            char = char.upper()
        if char.isalnum() and draw(st.booleans()):
            char = fullwidth(char)
        out.append(char)
    return "".join(out)


@given(data=st.data(), local=LOCAL, label=LABEL, tld=TLD, sharp=st.booleans())
def test_every_spelling_of_an_address_maps_to_one_key(data, local, label, tld, sharp):
    canonical = f"{local}@{label}ss.{tld}"
    spelt_domain = f"{label}{SHARP_S if sharp else 'ss'}.{tld}"
    spelling = data.draw(spelling_of(local)) + "@" + data.draw(spelling_of(spelt_domain))

    assert normalize_mailbox(spelling) == canonical
    assert normalize_mailbox(canonical) == canonical


@given(local=LOCAL, label=LABEL, tld=TLD)
def test_the_idna_2008_form_of_sharp_s_is_the_same_mailbox(local, label, tld):
    ascii_label = idna.encode(f"{label}{SHARP_S}").decode()  # xn--..., what IDNA 2008 keeps

    assert normalize_mailbox(f"{local}@{ascii_label}.{tld}") == f"{local}@{label}ss.{tld}"


HOMOGLYPHS = {"a": CYRILLIC_A, "o": CYRILLIC_O, "e": "\u0435", "p": "\u0440", "c": "\u0441"}


@given(
    word=st.from_regex(r"\A[a-z]{2,12}\Z").filter(lambda w: set(w) & set(HOMOGLYPHS)),
    data=st.data(),
)
def test_one_look_alike_letter_in_a_latin_label_is_refused(word, data):
    spots = [i for i, char in enumerate(word) if char in HOMOGLYPHS]
    spot = data.draw(st.sampled_from(spots))
    forged = word[:spot] + HOMOGLYPHS[word[spot]] + word[spot + 1 :]

    assert mailbox_key(f"victim@{forged}.com") is None
    assert mailbox_key(f"victim@{word}.com") == f"victim@{word}.com"


@given(st.text(max_size=60))
def test_any_text_is_refused_or_normalised_to_a_fixed_point(text):
    key = mailbox_key(text)
    if key is not None:
        assert key.isascii() and key == key.lower()
        assert mailbox_key(key) == key
