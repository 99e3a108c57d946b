"""The one place that reads the clock. Domain code takes `now` as an argument."""

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
