"""The reader's days and months, as the database stores them.

Odoo stores datetimes in UTC; the people reading the funnel count days and
months where they are: a deal closed on 28 February at 18:00 UTC is a March
deal in Shanghai (UTC+8). Every period of whole days or months (a plan's, a
workbook's, the health's closing window) starts at midnight in the reader's
time zone, the context's `tz` (Odoo's `env.tz`; UTC without one): the report,
the planner, the diagnosis, the workbook and the weekly mail (read with each
recipient's time zone) all take their bounds from here.
"""

from datetime import datetime, time, timedelta

import pytz

from odoo.fields import Domain
from odoo.tools import SQL


def day_start(env, day):
    """The UTC datetime (naive, as stored) at which `day` starts for the reader."""
    return env.tz.localize(datetime.combine(day, time.min)).astimezone(pytz.utc).replace(tzinfo=None)


def days_domain(field_name, env, date_from, date_to):
    """`field_name` (a datetime) within the two days, those included."""
    return Domain(field_name, ">=", day_start(env, date_from)) & Domain(
        field_name, "<", day_start(env, date_to + timedelta(days=1))
    )


def local_sql(env, utc_timestamp):
    """SQL: a stored (UTC) timestamp as the reader's local time."""
    return SQL("((%s) AT TIME ZONE 'UTC') AT TIME ZONE %s", utc_timestamp, env.tz.zone)


def utc_sql(env, local_timestamp):
    """SQL: a local time of the reader as a stored (UTC) timestamp."""
    return SQL("((%s) AT TIME ZONE %s) AT TIME ZONE 'UTC'", local_timestamp, env.tz.zone)
