"""The pricing SQL rendered from its one definition (reconcile/sql.py) for each dialect: DuckDB
(what the vectorized engine runs) and PostgreSQL (LiteLLM's own database), held to golden files."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT

from costctl.choices import GROUP_KEYS
from costctl.reconcile import sql

GOLDEN = ROOT / "tests" / "golden"
GROUPS = GROUP_KEYS


def render(dialect: sql.Dialect) -> str:
    tol = sql.Tolerance.of(Decimal("1e-9"), Decimal("0.0001"))
    since, until = datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc)
    skips = "".join(f"-- skipped: {reason}\n{query};\n\n" for (reason, _detail), query in sql.window_skips(since, until))
    return (skips + "-- repeated request_ids: all but the first\n" + sql.repeats(dialect) + ";\n\n"
            "-- the rows to price\n" + sql.without("v0", "dup") + ";\n\n"
            "-- billed token counts\n" + sql.billed("SELECT * FROM parsed", dialect) + ";\n\n"
            "-- priced rows: expected cost and mismatch cause\n" + sql.priced_rows(dialect, tol).strip() + ";\n\n"
            "-- totals per group, cause and mismatch\n" + sql.aggregate(dialect, GROUPS) + ";\n")


@pytest.mark.parametrize("name", sorted(sql.DIALECTS))
def test_pricing_sql_renders_for_every_dialect(name, request):
    text = render(sql.DIALECTS[name])
    path = GOLDEN / f"pricing.{name}.sql"
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"golden {path.name} differs (pytest --update-golden)"


def test_postgres_rendering_uses_no_duckdb_only_sql():
    text = render(sql.POSTGRES)
    for duckdb_only in ("GROUP BY ALL", "any_value(", "strftime(", "DECIMAL(38,24)", " DOUBLE)"):
        assert duckdb_only not in text, duckdb_only
    assert "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13" in text and "AS NUMERIC)" in text


def _pg_bin(name: str) -> str | None:
    import glob
    import shutil

    return shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)


@pytest.fixture
def postgres():
    """A throw-away PostgreSQL on 127.0.0.1 (initdb + pg_ctl); yields a `psql` runner."""
    import os
    import pwd
    import socket
    import subprocess

    initdb, pg_ctl, psql = _pg_bin("initdb"), _pg_bin("pg_ctl"), _pg_bin("psql")
    if not (initdb and pg_ctl and psql):
        reason = "needs PostgreSQL's initdb, pg_ctl and psql (.ci/run installs them)"
        if os.environ.get("COSTCTL_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    import shutil
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="costctl-pg-"))  # not under pytest's root-only folder
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user to run the server as")
        as_user = ["runuser", "-u", "postgres", "--"]
        os.chmod(tmp_path, 0o777)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "pg"
    subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "costctl"], check=True,
                   capture_output=True)
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(tmp_path / "pg.log"), "-w", "-o",
                    f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp_path}", "start"], check=True, capture_output=True)

    def run(script: str) -> subprocess.CompletedProcess:
        return subprocess.run([psql, "-h", "127.0.0.1", "-p", str(port), "-U", "costctl", "-d", "postgres",
                               "-v", "ON_ERROR_STOP=1", "-q", "-At", "-F", ","], input=script, capture_output=True,
                              text=True)

    yield run
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_postgres_accepts_and_evaluates_the_rendering(postgres):
    """The PostgreSQL rendering runs on PostgreSQL: one row priced and aggregated, and its
    expected cost is the sum of its billed tokens times the rates."""
    d = sql.POSTGRES
    reported = ", ".join(f"{c} bigint" for c in sql.REPORTED)
    money = ", ".join(f"{sql.rate_column(p, r)} numeric" for p in sql.PLANS for r in sql.RATES)
    keys = ", ".join(f"{k} text" for k in sql.RATE_KEYS)
    rates = ", ".join("0.000002" if r == "input" else "0.000008" if r == "output" else "0"
                      for _p in sql.PLANS for r in sql.RATES)
    zeros = ", ".join("1000" if c == "pt" else "500" if c == "ct" else "-1" if c in ("text_in", "text_out") else "0"
                      for c in sql.REPORTED)
    base_columns = ("src int, ord bigint, rid text, spend numeric, hit boolean, failed boolean, akey text, usr text, "
                    f"team text, tags text, ts timestamp, mid text, mg text, mdl text, prov text, {keys}, {reported}")
    tol = sql.Tolerance.of(Decimal("1e-9"), Decimal("0.0001"))
    script = f"""
        CREATE TABLE parsed ({base_columns});
        INSERT INTO parsed VALUES (0, 1, 'r1', 0.006, false, false, 'k', 'u', 't', '["a", "b"]', '2026-11-30 10:00',
                                   'd1', 'g',
                                   'm', 'openai', '', '', '', '', '', {zeros});
        CREATE VIEW v AS {sql.billed("SELECT * FROM parsed", d)};
        CREATE TABLE k (mid text, mg text, mdl text, prov text, pid int, unknown boolean, azure text,
                        unpriced boolean, has_default boolean, g_model_group text, g_deployment text, g_model text,
                        g_provider text, mm_group text, mm_model text);
        INSERT INTO k VALUES ('d1', 'g', 'm', 'openai', 1, false, NULL, false, false, 'g', 'd1', 'm', 'openai',
                              'g', 'm');
        CREATE TABLE t (pid int, {keys}, lo bigint, hi bigint, {money});
        INSERT INTO t VALUES (1, '', '', '', '', '', 0, 9223372036854775807, {rates});
        CREATE VIEW j AS {sql.priced_rows(d, tol)};
        CREATE TABLE agg AS {sql.aggregate(d, GROUPS)};
        SELECT n, exp, cause, g7, g8 FROM agg;
        CREATE TABLE v0 (src int, ord bigint, rid text);
        INSERT INTO v0 VALUES (1, 1, 'a'), (1, 2, 'b'), (2, 1, 'a'), (1, 3, 'a');
        CREATE TABLE dup AS {sql.repeats(d)};
        SELECT string_agg(src || ':' || ord, ' ' ORDER BY src, ord) FROM dup;
        SELECT string_agg(src || ':' || ord, ' ' ORDER BY src, ord) FROM ({sql.without("v0", "dup")}) kept;
    """
    result = postgres(script)
    assert result.returncode == 0, result.stderr
    # 1000 input tokens at $2/1M + 500 output at $8/1M = $0.006, as logged: no mismatch
    priced, repeated, kept = result.stdout.strip().splitlines()
    assert (repeated, kept) == ("1:3 2:1", "1:1 1:2"), result.stdout  # the first 'a' (1:1) stays
    n, expected, cause, day, tags = priced.split(",", 4)
    assert (n, Decimal(expected), cause, day, tags) == ("1", Decimal("0.006"), "", "2026-11-30", "{a,b}"), result.stdout
