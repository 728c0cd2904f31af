"""Every row of the bad-input table (tests/bad_inputs.py, rendered in docs/bad-input.md): a clear exception
of the stated type and message, or, for inputs fastact handles, the same answer as on clean data. Run on
the public namespace (native when built) and on fastact.reference."""

from __future__ import annotations

import re
import warnings

import fastact
import numpy as np
import pytest
from bad_inputs import ROWS, Row, namespace
from conftest import assert_bitwise_equal


@pytest.mark.parametrize("module", [fastact, fastact.reference], ids=["public", "reference"])
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input_row(row: Row, module: object) -> None:
    if row.id == "unknown-name" and module is fastact.reference:
        pytest.skip("the registry lives in fastact, not fastact.reference")
    env = namespace(module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no silent RuntimeWarning on the way either
        if row.raises is None:
            got = eval(row.call, env)  # noqa: S307 - our own table
            expected = eval(row.clean, env)  # noqa: S307
            assert_bitwise_equal(np.asarray(got), np.asarray(expected), row.id)
            return
        with pytest.raises(row.raises) as info:
            eval(row.call, env)  # noqa: S307
    assert re.search(row.match, str(info.value)), f"{row.id}: message {str(info.value)!r} lacks {row.match!r}"


def test_table_covers_the_issue_cases() -> None:
    ids = {r.id for r in ROWS}
    for needed in ("unknown-name", "complex", "out-dtype", "out-shape", "out-readonly", "out-list", "nan-param",
                   "grad-out-shape", "zero-size", "byteswapped", "unaligned", "bad-dtype-kw"):
        assert needed in ids
