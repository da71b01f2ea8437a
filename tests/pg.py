"""A throw-away PostgreSQL for tests: initdb into a temporary folder, started on 127.0.0.1 on a
free port, stopped at the end; and databases holding LiteLLM's own `LiteLLM_SpendLogs`, created
by the migrations LiteLLM ships in `litellm-proxy-extras` (each test gets a fresh copy of a
template database, so the migrations run once).

Where the server binaries, the migrations or psycopg are missing, `why_not()` says which, and the
tests skip with that line (.ci/run provides all three and sets COSTCTL_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

MIGRATIONS_ENV = "COSTCTL_LITELLM_MIGRATIONS"  # the migrations/ folder of litellm_proxy_extras
TEMPLATE = "litellm_template"


def pg_bin(name: str) -> str | None:
    return shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)


def migrations() -> Path | None:
    """LiteLLM's migrations: $COSTCTL_LITELLM_MIGRATIONS, else an installed litellm_proxy_extras."""
    folder = os.environ.get(MIGRATIONS_ENV)
    if folder:
        return Path(folder)
    try:
        import litellm_proxy_extras  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(litellm_proxy_extras.__file__).parent / "migrations"


def why_not(need_migrations: bool = True) -> str | None:
    """Why PostgreSQL tests cannot run here, or None."""
    if not (pg_bin("initdb") and pg_bin("pg_ctl")):
        return "needs PostgreSQL's initdb and pg_ctl (.ci/run installs them)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "needs psycopg (pip install '.[postgres]'; .ci/run installs it)"
    if need_migrations and (migrations() is None or not migrations().is_dir()):  # type: ignore[union-attr]
        return f"needs LiteLLM's migrations (litellm-proxy-extras; .ci/run sets ${MIGRATIONS_ENV})"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres user to run the server as"
    return None


class Server:
    """One PostgreSQL server; `uri(db)` for a database on it; `stop()` removes everything."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="costctl-pg-"))  # not under pytest's root-only folder
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: the server runs as the postgres user
            self.as_user = ["runuser", "-u", "postgres", "--"]
            os.chmod(self.folder, 0o777)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.data = self.folder / "data"
        pw = self.folder / "pw"
        pw.write_text("secret-pw\n")
        os.chmod(pw, 0o644)
        subprocess.run([*self.as_user, pg_bin("initdb"), "-D", str(self.data), "-U", "costctl", "--pwfile", str(pw),
                        "-A", "scram-sha-256"], check=True, capture_output=True)
        subprocess.run([*self.as_user, pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "pg.log"), "-w",
                        "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off",
                        "start"], check=True, capture_output=True)
        self.password = "secret-pw"
        self.count = 0

    def uri(self, db: str = "postgres", password: bool = True) -> str:
        auth = f"costctl:{self.password}" if password else "costctl"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{db}"

    def execute(self, db: str, *statements: str, autocommit: bool = True) -> None:
        import psycopg

        with psycopg.connect(self.uri(db), autocommit=autocommit) as con:
            for statement in statements:
                con.execute(statement)  # type: ignore[arg-type]

    def template(self) -> None:
        """The template database: LiteLLM's migrations, in order, as LiteLLM's proxy applies them."""
        self.execute("postgres", f"CREATE DATABASE {TEMPLATE}")
        folder = migrations()
        assert folder is not None
        import psycopg

        with psycopg.connect(self.uri(TEMPLATE), autocommit=True) as con:
            for path in sorted(folder.glob("*/migration.sql")):
                con.execute(path.read_text(encoding="utf-8"))  # type: ignore[arg-type]

    def fresh(self) -> str:
        """A new database holding LiteLLM's empty tables; its URI (with the password)."""
        self.count += 1
        name = f"litellm_{self.count}"
        self.execute("postgres", f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.uri(name)

    def stop(self) -> None:
        subprocess.run([*self.as_user, pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


_NOT_NULL = ("request_id", "spend", "prompt_tokens", "completion_tokens", "startTime")
_EMPTY_TEXT = ("model", "api_key")  # NOT NULL DEFAULT '' in LiteLLM's table


def _refuse(constant: str) -> None:
    raise ValueError(constant)


def _fits(column: str, value: str) -> bool:
    """Whether LiteLLM's column type takes this CSV text (rows that it does not are left out)."""
    import json
    from datetime import datetime

    try:
        if column in ("prompt_tokens", "completion_tokens", "total_tokens"):
            return -2**31 <= int(value) < 2**31
        if column == "spend":
            float(value)
        elif column in ("metadata", "request_tags"):
            json.loads(value, parse_constant=_refuse)  # jsonb refuses NaN and Infinity
            return "\\u0000" not in value  # and NUL
        elif column in ("startTime", "endTime"):
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def load_csv(uri: str, path: Path, table: str = '"LiteLLM_SpendLogs"') -> int:
    """COPY the rows of a spend-log CSV into LiteLLM's `table` (the columns both have), as LiteLLM
    would have written them: rows its column types or its primary key refuse are left out, and
    call_type / endTime get values when the CSV has none. The number of rows loaded."""
    import csv

    import psycopg

    with open(path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with psycopg.connect(uri, autocommit=True) as con:
        present = {d.name for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description}
        keep = [c for c in header if c in present]
        extra = [c for c in ("call_type", "endTime") if c in present and c not in header]
        names = ", ".join('"' + c + '"' for c in keep + extra)
        n, seen = 0, set()
        with con.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy, \
                open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                values = {c: (row[c] if row[c] != "" else None) for c in keep}
                if any(values.get(c) is None for c in _NOT_NULL if c in values) or values.get("request_id") in seen:
                    continue
                if not all(v is None or _fits(c, v) for c, v in values.items()):
                    continue
                seen.add(values.get("request_id"))
                for c in _EMPTY_TEXT:
                    if c in values and values[c] is None:
                        values[c] = ""
                fill = {"call_type": "acompletion", "endTime": values.get("startTime")}
                copy.write_row([values[c] for c in keep] + [fill[c] for c in extra])
                n += 1
    return n


def export_csv(uri: str, path: Path, table: str = '"LiteLLM_SpendLogs"') -> None:
    """What users run today: `\\copy (SELECT * … ORDER BY "startTime", request_id) TO … CSV HEADER`."""
    import psycopg

    with psycopg.connect(uri) as con, open(path, "wb") as out:
        with con.cursor().copy(f'COPY (SELECT * FROM {table} ORDER BY "startTime", request_id) '
                               "TO STDOUT WITH CSV HEADER") as copy:
            for data in copy:
                out.write(data)


def main() -> None:
    """python tests/pg.py: start a server with the template, print its URI, wait for Enter."""
    server = Server()
    try:
        server.template()
        print(server.fresh(), flush=True)
        sys.stdin.readline()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
