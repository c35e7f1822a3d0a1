"""The README's table of supported BPMN constructs and the samples in tests/helpers/support_table.py
match one to one, so the table cannot drift (each row is checked in tests/service/test_support_table.py)."""
from __future__ import annotations

from tests.helpers.support_table import SAMPLES, readme_rows


def test_every_row_has_a_sample_and_every_sample_a_row():
    assert set(readme_rows()) == set(SAMPLES)
