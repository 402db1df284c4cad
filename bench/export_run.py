"""Run in `odoo-bin shell` by bench_export.py: the funnel workbook of the
period as admin (a Sales administrator, under record rules).

- the whole workbook (every sheet, built as its download route builds
  it), the process's resident memory sampled during the first run;
- the Transitions sheet alone (rows fetched from SQL in batches) and, in
  turns with it, xlsxwriter alone writing the same cells from a list fetched
  beforehand, in constant-memory mode too.

Settings from the environment: BENCH_RUNS, BENCH_DATE_FROM, BENCH_DATE_TO.
Prints one line `JSON {...}`.
"""

import io
import json
import os
import statistics
import threading
import time

import psutil
import xlsxwriter

from odoo.addons.sales_funnel_stages.wizards.sales_funnel_workbook import FunnelWorkbook

env = env  # noqa: F821,PLW0127 (odoo-bin shell provides env)

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
admin = env.ref("base.user_admin")
env = env(user=admin.id, su=False, context={"lang": "en_US", "tz": "UTC"})
wizard = env["sales.funnel.export"].create(
    {"period": "custom", "date_from": os.environ["BENCH_DATE_FROM"], "date_to": os.environ["BENCH_DATE_TO"]}
)
export = wizard._in_export_companies()


class PeakRSS:
    """The highest resident set size of this process while in the block,
    sampled every 5 ms."""

    def __init__(self):
        self.process = psutil.Process()
        self.peak = 0
        self.done = threading.Event()

    def _sample(self):
        while not self.done.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        self.before = self.process.memory_info().rss
        self.peak = self.before
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth_mb(self):
        return (self.peak - self.before) / 2**20


def timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def transitions_sheet():
    workbook = FunnelWorkbook(export, io.BytesIO())
    workbook._transitions_sheet()
    workbook.book.close()


def transition_cells():
    """The rows the Transitions sheet writes, in a list."""
    workbook = FunnelWorkbook(export, io.BytesIO())
    cells = []
    workbook._table = lambda sheet, row, columns, rows, **options: cells.extend(rows)
    workbook._transitions_sheet()
    return cells


def bare_xlsxwriter(cells):
    """The same cells, formats and widths, with xlsxwriter's own calls only."""
    book = xlsxwriter.Workbook(io.BytesIO(), {"constant_memory": True})
    sheet = book.add_worksheet("Transitions")
    header = book.add_format({"bold": True, "bg_color": "#e9ecef", "text_wrap": True, "valign": "top"})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money = book.add_format({"num_format": '"$" #,##0.00'})
    for col in range(12):
        sheet.set_column(col, col, 18)
        sheet.write_string(0, col, f"Column {col}", header)
    sheet.freeze_panes(1, 1)
    for row, values in enumerate(cells, start=1):
        sheet.write_datetime(row, 0, values[0], when)
        for col in range(1, 10):
            sheet.write_string(row, col, values[col] or "")
        sheet.write_number(row, 10, values[10] or 0, money)
        sheet.write_number(row, 11, values[11] or 0, money)
    sheet.autofilter(0, 0, len(cells), 11)
    book.close()


result = {"runs": RUNS}
# memory first, in a process that has exported nothing yet
exported = wizard._in_export_companies()
with PeakRSS() as memory:
    started = time.perf_counter()
    workbook = exported._workbook()
    first = time.perf_counter() - started
result["export_rss_growth_mb"] = memory.growth_mb
result["export_file_mb"] = len(workbook) / 2**20
result["export_s"] = [first] + [timed(exported._workbook) for _run in range(RUNS - 1)]
# then the two writers in turns, so that both see the same load of the machine
cells = transition_cells()
result["transitions"] = len(cells)
result["transitions_s"], result["bare_s"] = [], []
for _run in range(RUNS):
    result["transitions_s"].append(timed(transitions_sheet))
    result["bare_s"].append(timed(lambda: bare_xlsxwriter(cells)))
result["ratios"] = [ours / bare for ours, bare in zip(result["transitions_s"], result["bare_s"], strict=True)]
result["medians"] = {
    key: statistics.median(result[key]) for key in ("export_s", "transitions_s", "bare_s", "ratios")
}
env.cr.rollback()
print("JSON " + json.dumps(result))
