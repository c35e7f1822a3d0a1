"""The deployed process library: the shipped calendar, every model and the demo users."""
from __future__ import annotations

from datetime import datetime

import pytest

from engine.services import calendars, demo_data
from tests.helpers.process_library import LIBRARY


@pytest.fixture
def open_bank(ctx, clock):
    """`open_bank(at=None)`: set the clock to `at` (if given), then set the bank up as
    `bankflow serve` does (the head-office calendar, the library, the demo users).

    Timer paths pass `MONDAY_10_SHANGHAI`: the periodic starts count from the deployment."""
    def open_at(at: datetime | None = None):
        if at is not None:
            clock.set(at)
        calendars.ensure_default_calendars(ctx)
        demo_data.load_demo(ctx, LIBRARY)
        return ctx
    return open_at


@pytest.fixture
def bank(open_bank):
    """The shipped calendar, the library and the demo users, as `bankflow serve` sets them up."""
    return open_bank()
