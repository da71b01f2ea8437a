"""Reading the logs into DuckDB: every input row into table r in file order (parsed there when
its shape allows), and the rows the SQL left alone parsed by the reference code into table s."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from costctl.reconcile import sql
from costctl.reconcile.model import Ledger, Options, window_skip
from costctl.reconcile.vectorized.formats import SCANS
from costctl.reconcile.vectorized.load import load_rows
from costctl.reconcile.vectorized.parse import PARSED, RARE_PARSED, columns_of, select
from costctl.usage.readers import Source
from costctl.usage.record import Skip, tags_of, to_record

OnRead = Callable[[int, int], None]  # (bytes just read, rows read so far)


class Scan:
    """Tables r (one row per input row: rowid = order read; `fast` is NULL for a blank line) and
    s (the rows the reference code parsed); every row read is counted in `ledger`."""

    def __init__(self, con: Any, ledger: Ledger, options: Options, dialect: sql.Dialect, need_time: bool,
                 folder: str) -> None:
        self.con, self.ledger, self.options, self.dialect = con, ledger, options, dialect
        self.need_time = need_time
        self.folder = folder
        self.lines: dict[int, Callable[[int], int]] = {}  # source index -> row position -> line
        con.execute(f"CREATE TABLE r0 (src INTEGER, fast BOOLEAN, {PARSED}, raw VARCHAR)")
        con.execute("CREATE VIEW r AS SELECT rowid AS ord, * FROM r0")
        con.execute(f"CREATE TABLE s (src INTEGER, ord BIGINT, {PARSED}, {RARE_PARSED})")

    def line(self, src: int, ord: int) -> int:
        return self.lines[src](ord)

    def add(self, index: int, source: Source, mapping: dict[str, str], on_read: OnRead | None) -> None:
        """Read source number `index` (from 1) into r, then its slow rows into s."""
        con = self.con
        scan = SCANS[source.format]()
        relation, fields = scan.relation(con, index, source, mapping)
        offset = con.execute("SELECT count(*) FROM r0").fetchone()[0]
        parsed = select(relation, fields, self.dialect, self.need_time, self.options.group_by)
        self._execute_with_progress(f"INSERT INTO r0 SELECT {index}, * FROM ({parsed})", source, on_read)

        def skip(line: int, reason: str, detail: str) -> None:  # a row the scan refused
            self.ledger.totals.rows_read += 1
            self.ledger.skip_row(index, line, reason, detail)

        self.lines[index] = scan.lines(con, index, source, offset, skip)
        counted = con.execute("SELECT count(fast), count(*) FILTER (WHERE NOT fast) FROM r0 WHERE src = ?",
                              [index]).fetchone()
        self.ledger.totals.rows_read += counted[0]
        if not counted[1]:
            return
        reader = con.cursor()
        line_of = self.lines[index]
        by_tag = "tag" in self.options.group_by
        rows: list[tuple[Any, ...]] = []
        for ord, payload in scan.slow_rows(reader, index, source, offset, mapping):
            line = line_of(ord)
            try:
                row = to_record(scan.raw(source, payload, line, mapping), source.name, line, self.need_time)
            except Skip as skip_:
                self.ledger.skip_row(index, line, skip_.reason, skip_.detail)
                continue
            left_out = window_skip(row.start_time, self.options)
            if left_out is not None:
                self.ledger.skip_row(index, line, *left_out)
                continue
            tags = ""
            if by_tag:
                try:
                    listed = tags_of(row)
                except Skip as skip_:
                    self.ledger.skip_row(index, line, skip_.reason, skip_.detail)
                    continue
                tags = json.dumps(listed) if listed else ""
            rows.append((index, ord, *columns_of(row, self.dialect, tags)))
            if len(rows) >= 50_000:
                load_rows(con, "s", rows, self.folder)
                rows = []
        load_rows(con, "s", rows, self.folder)
        reader.close()

    def _execute_with_progress(self, query: str, source: Source, on_read: OnRead | None) -> None:
        con = self.con
        if on_read is None or not source.size:
            con.execute(query)
            return
        failure: list[BaseException] = []

        def work() -> None:
            try:
                con.execute(query)
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        reported = 0
        rows_read = self.ledger.totals.rows_read
        try:
            while worker.is_alive():
                worker.join(0.2)
                try:
                    done = con.query_progress()
                except Exception:  # noqa: BLE001 - progress is best effort
                    done = -1
                if done and done > 0:
                    now = int(source.size * min(done, 100) / 100)
                    if now > reported:
                        on_read(now - reported, rows_read)
                        reported = now
        except KeyboardInterrupt:
            con.interrupt()  # the query stops at its next check; the connection closes after it
            worker.join()
            raise
        if failure:
            raise failure[0]
        if source.size > reported:
            on_read(source.size - reported, rows_read)
