"""Block-wise line reading gives exactly the lines that line-by-line reading gives."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from siem_consensus.sources import read_lines

pieces = st.lists(
    st.sampled_from([b"a", b"\n", b"\r", b"\r\n", b"\xc3\xa9", b"\xff", b"\xe2\x82", b"x" * 7]),
    max_size=60,
)


@given(pieces, st.integers(1, 16))
def test_same_lines_as_iterating_the_file(parts: list[bytes], block: int) -> None:
    data = b"".join(parts)
    expected = [raw.decode("utf-8", errors="replace").rstrip("\r\n") for raw in io.BytesIO(data)]
    assert list(read_lines(io.BytesIO(data), block=block)) == expected
