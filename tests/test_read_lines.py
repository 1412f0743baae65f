"""Block-wise line reading gives exactly the lines that line-by-line reading gives."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from siem_consensus.parsers._blocks import decode_lines, split_lines
from siem_consensus.parsers.reading import read_line_series
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


csv_pieces = st.lists(
    st.sampled_from(
        [b"a", b" ", b"\n", b"\n\n", b"\r", b"\x1f", b'"', b",", b"#", b"\x00", b"\t"]
        + [b"\xef\xbb\xbf", b"\xc3\xa9", b"\xff", b"\xe2\x82", b"NA", b"null", b"x" * 7]
    ),
    max_size=60,
)


@given(csv_pieces)
def test_split_lines_is_decode_lines(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert split_lines(data).to_list() == decode_lines(data)


@given(csv_pieces, st.integers(1, 7), st.integers(1, 16))
def test_line_series_are_chunks_of_read_lines(parts: list[bytes], lines: int, piece: int) -> None:
    data = b"".join(parts)
    expected = list(read_lines(io.BytesIO(data)))
    chunks = [s.to_list() for s in read_line_series(io.BytesIO(data), lines, piece=piece)]
    assert all(len(chunk) == lines for chunk in chunks[:-1])
    assert 0 < len(chunks[-1]) <= lines if chunks else not expected
    assert [line for chunk in chunks for line in chunk] == expected
