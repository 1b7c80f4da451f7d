"""`X-Request-ID`: whatever a client sends, the id Roster uses is safe to put in a log line."""

import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from config.request_id import request_id_of

SAFE = re.compile(r"[A-Za-z0-9._-]{1,200}")


@given(st.one_of(st.text(max_size=300), st.none(), st.binary(max_size=50), st.integers()))
def test_any_input_gives_a_safe_id_and_keeps_only_valid_ones(sent):
    chosen = request_id_of(sent)
    assert SAFE.fullmatch(chosen)
    if isinstance(sent, str) and SAFE.fullmatch(sent):
        assert chosen == sent
    else:
        assert uuid.UUID(chosen).version == 4


@given(st.from_regex(SAFE, fullmatch=True))
def test_every_valid_id_is_kept(sent):
    assert request_id_of(sent) == sent
