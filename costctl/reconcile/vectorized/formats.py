"""One scan per file format: how DuckDB reads it (a relation and, per field, the SQL of its raw
text), how its rows map back to lines, and how the rows the SQL leaves to the reference code are
read again as the reference reader yields them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from costctl.errors import CostctlError
from costctl.reconcile.vectorized.limits import Unsupported
from costctl.reconcile.vectorized.load import quote_name, quote_text
from costctl.reconcile.vectorized.parse import PATHS, paths_list
from costctl.usage.readers import Source, check_columns, read_rows, renamer
from costctl.usage.record import FIELDS, Skip

Skipper = Callable[[int, str, str], None]  # (line, reason, detail): a row the scan itself skips


class FormatScan(Protocol):
    def relation(self, con: Any, index: int, source: Source, mapping: dict[str, str]) -> tuple[str, dict[str, str]]:
        """SQL of the rows (aliased x by the caller) and, per field, the SQL of its raw text; also
        `row_ok` (the row's shape is one the SQL reads) and `raw` (what the reference re-reads)."""

    def lines(self, con: Any, index: int, source: Source, offset: int, skip: Skipper) -> Callable[[int], int]:
        """After the rows are in: the file line of each row position (rows before this file: `offset`)."""

    def slow_rows(self, reader: Any, index: int, source: Source, offset: int,
                  mapping: dict[str, str]) -> Iterable[tuple[int, Any]]:
        """(row position, payload) of the rows the SQL did not parse, in file order."""

    def raw(self, source: Source, payload: Any, line: int, mapping: dict[str, str]) -> Any:
        """A payload as the reference reader would yield it (or Skip)."""


def _reference_checks(source: Source, mapping: dict[str, str]) -> None:
    """The reference reader's checks of a file's start (encoding, gzip, binary data, required
    columns), with its messages: it reads up to the first row that is not a skip."""
    for _line, row in read_rows(source, mapping):
        if not isinstance(row, Skip):
            return


def _file(source: Source) -> str:
    """SQL: the file DuckDB reads (limits.unsupported_reason keeps streams away)."""
    assert source.path is not None
    return quote_text(source.path)


def _compression(source: Source) -> str:
    return quote_text("gzip" if source.gzipped else "none")


def _text_rows(reader: Any, index: int) -> Iterable[tuple[int, Any]]:
    cursor = reader.execute("SELECT ord, raw FROM r WHERE src = ? AND NOT fast ORDER BY ord", [index])
    while batch := cursor.fetchmany(4096):
        yield from batch


class CsvScan:
    def __init__(self) -> None:
        self.width = 0

    def relation(self, con: Any, index: int, source: Source, mapping: dict[str, str]) -> tuple[str, dict[str, str]]:
        _reference_checks(source, mapping)
        with source.open_bytes() as raw:
            first = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="").readline()
        try:
            header = next(csv.reader([first]), None)
        except csv.Error:
            header = None
        if header is None or first.count('"') % 2:
            raise Unsupported("the CSV header row is empty or spans lines")
        if any("\x00" in h for h in header):
            raise CostctlError("binary data, not a CSV spend log", source.name, 1)
        header = [h.strip() for h in header]
        check_columns(header, source, mapping)
        if len(set(header)) != len(header):
            raise Unsupported("the CSV header repeats a column name")
        columns = "{" + ", ".join(f"{quote_text(h)}: 'VARCHAR'" for h in header) + "}"
        self.width = len(header)
        relation = (f"SELECT * FROM read_csv({_file(source)}, header=true, auto_detect=false, "
                    f"columns={columns}, delim=',', quote='\"', escape='\"', store_rejects=true, "
                    f"rejects_table='rejects_{index}', rejects_scan='scans_{index}', "
                    f"compression={_compression(source)}, encoding='utf-8')")
        fields = {}
        for field in FIELDS:
            column = mapping.get(field)
            name = column if column in header else field if field in header else None
            fields[field] = f"x.{quote_name(name)}" if name is not None else "NULL"
        fields["raw"] = "to_json({" + ", ".join(f"{quote_text(f)}: {fields[f]}" for f in FIELDS) + "})"
        fields["row_ok"] = "true"
        return relation, fields

    def lines(self, con: Any, index: int, source: Source, offset: int, skip: Skipper) -> Callable[[int], int]:
        """Rows DuckDB's CSV reader refused. Python's csv module (the reference reader) decides:
        a wrong number of fields is a malformed-row skip; anything else is beyond this engine."""
        rows = con.execute(f"SELECT DISTINCT line, error_type, csv_line FROM rejects_{index} ORDER BY line").fetchall()
        rejected = []
        for line, error_type, text in rows:
            if error_type not in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
                raise Unsupported(f"{source.name}:{line}: {error_type.lower()}")
            try:
                values = next(csv.reader([text.lstrip("\r\n")]), [])
            except csv.Error:
                raise Unsupported(f"{source.name}:{line}: unparsable row") from None
            if len(values) == self.width:
                raise Unsupported(f"{source.name}:{line}: a row the CSV readers disagree on")
            rejected.append(int(line))
            skip(int(line) - source.line_shift, "malformed-row", f"{len(values)} fields, header has {self.width}")
        in_file = _csv_lines(rejected)
        return lambda ord: in_file(ord - offset) - source.line_shift

    def slow_rows(self, reader: Any, index: int, source: Source, offset: int,
                  mapping: dict[str, str]) -> Iterable[tuple[int, Any]]:
        return _text_rows(reader, index)

    def raw(self, source: Source, payload: Any, line: int, mapping: dict[str, str]) -> Any:
        # the fields as text; DuckDB's NULL is an empty field
        return {k: "" if v is None else v for k, v in json.loads(payload).items()}


class JsonlScan:
    def relation(self, con: Any, index: int, source: Source, mapping: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Each line is parsed once: one json_extract gives the JSON text of every field and of
        every usage path inside an object `metadata` (a string `metadata` is parsed again, alone)."""
        _reference_checks(source, mapping)
        lines = (f"SELECT __j FROM read_csv({_file(source)}, header=false, auto_detect=false, "
                 f"columns={{'__j': 'VARCHAR'}}, delim='\\x01', quote='', escape='', "
                 f"compression={_compression(source)}, encoding='utf-8')")
        renamed = {field: mapping.get(field, field) for field in FIELDS}
        paths = [f"$.{json.dumps(renamed[f])}" for f in FIELDS]
        meta_path = paths[FIELDS.index("metadata")]
        listed = "[" + ", ".join(quote_text(p) for p in paths + [meta_path + p[1:] for p in PATHS.values()]) + "]"

        def v(field: str) -> str:
            return f"x.__v[{FIELDS.index(field) + 1}]"

        meta = v("metadata")
        # DuckDB's JSON reader accepts trailing commas, Python's does not: such lines go to Python
        bare = meta.replace("x.", "")
        relation = (f"SELECT __j, __v, CASE WHEN {bare} LIKE '\"%' THEN json_extract_string({bare}, '$') END "
                    f"AS __inner FROM ("
                    f"SELECT __j, CASE WHEN __j LIKE '{{%' AND NOT regexp_matches(__j, ',\\s*[}}\\]]') "
                    f"THEN TRY(json_extract(__j, {listed}))::VARCHAR[] END AS __v FROM ({lines}))")
        # a field's value as the reference reads it: a string's content (strings with escapes are
        # refused below), a number's or boolean's text; JSON null is NULL
        fields = {f: f"CASE WHEN {v(f)} LIKE '\"%' THEN {v(f)}[2:-2] WHEN {v(f)} <> 'null' THEN {v(f)} END"
                  for f in FIELDS}
        # the JSON kinds each field may have for the SQL to read it as the reference does, in one match
        kinds = {"request_id": "si", "spend": "sin", "prompt_tokens": "si", "completion_tokens": "si",
                 "cache_hit": "sb", "startTime": "s", **{f: "si" for f in ("model_id", "model_group", "model",
                                                                          "custom_llm_provider", "status", "api_key",
                                                                          "user", "team_id")}}
        regex = {"s": '"[^"\\\\]*"', "i": "-?[0-9]+", "n": "-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?",
                 "b": "true|false"}
        pattern = "\\x01".join("(null|" + "|".join(regex[k] for k in ks) + ")" for ks in kinds.values())
        values = ", ".join(f"coalesce({v(f)}, 'null')" for f in kinds)
        fields["row_ok"] = f"(x.__v IS NOT NULL AND regexp_full_match(concat_ws(chr(1), {values}), '{pattern}'))"
        fields["raw"] = "x.__j"
        tags = v("request_tags")  # a JSON null, string or list (an object is the reference's to refuse)
        fields["tags_ok"] = f"(coalesce({tags}, 'null') = 'null' OR {tags} LIKE '\"%' OR {tags} LIKE '[%')"
        fields["blank"] = "(x.__j IS NULL OR trim(x.__j) = '')"
        # metadata: an object's usage paths come from the same parse; a string is parsed alone
        n = len(FIELDS)
        fields["meta_empty"] = f"({meta} IS NULL OR {meta} = 'null' OR {meta} IN ('\"\"', '\"{{}}\"', '\"[]\"', '\"null\"'))"
        fields["shape_ok"] = (f"({fields['meta_empty']} OR {meta} LIKE '{{%' OR (x.__inner LIKE '{{%' AND "
                              f"NOT regexp_matches(x.__inner, ',\\s*[}}\\]]')))")
        fields["mt"] = (f"CASE WHEN {meta} LIKE '{{%' THEN x.__v[{n + 1}:{n + len(PATHS)}] "
                        f"WHEN x.__inner LIKE '{{%' THEN TRY(json_extract(x.__inner, {paths_list()}))::VARCHAR[] END")
        return relation, fields

    def lines(self, con: Any, index: int, source: Source, offset: int, skip: Skipper) -> Callable[[int], int]:
        return lambda ord: ord - offset + 1  # blank lines are rows of r too, so line = ordinal

    def slow_rows(self, reader: Any, index: int, source: Source, offset: int,
                  mapping: dict[str, str]) -> Iterable[tuple[int, Any]]:
        return _text_rows(reader, index)

    def raw(self, source: Source, payload: Any, line: int, mapping: dict[str, str]) -> Any:
        try:
            value = json.loads(payload)
        except ValueError:
            if "\x00" in payload:
                raise CostctlError("binary data, not a JSONL spend log", source.name, line) from None
            raise Skip("bad-json-line", "not valid JSON") from None
        if not isinstance(value, dict):
            raise Skip("bad-json-line", "not a JSON object")
        return renamer(mapping)(value)


class ParquetScan:
    def relation(self, con: Any, index: int, source: Source, mapping: dict[str, str]) -> tuple[str, dict[str, str]]:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_file(source)})").fetchall()
        types = {row[0]: row[1] for row in described}
        check_columns(list(types), source, mapping)
        fields = {}
        for field in FIELDS:
            column = mapping.get(field)
            name = column if column in types else field if field in types else None
            if name is None:
                fields[field] = "NULL"
            elif types[name] in ("VARCHAR", "JSON") or types[name].startswith(("DECIMAL", "BIGINT", "INTEGER",
                                                                               "UBIGINT", "SMALLINT", "BOOLEAN",
                                                                               "DOUBLE", "TIMESTAMP")):
                fields[field] = f"CAST(x.{quote_name(name)} AS VARCHAR)"
            elif field in ("metadata", "request_tags"):
                fields[field] = f"CAST(to_json(x.{quote_name(name)}) AS VARCHAR)"
            else:
                raise Unsupported(f"{source.name}: column {name} is {types[name]}")
        fields["raw"] = "NULL"  # slow Parquet rows are read again with their native values
        fields["row_ok"] = "true"
        tags = mapping.get("request_tags") if mapping.get("request_tags") in types else "request_tags"
        kind = types.get(tags, "VARCHAR")
        fields["tags_ok"] = "true" if kind in ("VARCHAR", "JSON") or kind.endswith("[]") else "false"
        return f"SELECT * FROM read_parquet({_file(source)})", fields

    def lines(self, con: Any, index: int, source: Source, offset: int, skip: Skipper) -> Callable[[int], int]:
        return lambda ord: ord - offset + 1  # the row number

    def slow_rows(self, reader: Any, index: int, source: Source, offset: int,
                  mapping: dict[str, str]) -> Iterable[tuple[int, Any]]:
        cursor = reader.execute(
            f"SELECT p.* FROM read_parquet({_file(source)}, file_row_number=true) p WHERE p.file_row_number "
            f"IN (SELECT ord - {offset} FROM r WHERE src = {index} AND NOT fast) ORDER BY p.file_row_number")
        names = [d[0] for d in cursor.description]
        rename = renamer(mapping)
        while batch := cursor.fetchmany(4096):
            for values in batch:
                row = dict(zip(names, values, strict=True))
                yield row.pop("file_row_number") + offset, rename(row)

    def raw(self, source: Source, payload: Any, line: int, mapping: dict[str, str]) -> Any:
        return payload


SCANS: dict[str, Callable[[], FormatScan]] = {"csv": CsvScan, "jsonl": JsonlScan, "parquet": ParquetScan}


def _csv_lines(rejected: list[int]) -> Callable[[int], int]:
    """0-based data-row ordinal -> physical line (the header is line 1; rows DuckDB rejected take
    lines too). Exact unless blank lines or values spanning lines come before the row."""
    if not rejected:
        return lambda ord: ord + 2

    def line(ord: int) -> int:
        number = ord + 2
        for r in rejected:
            if r > number:
                break
            number += 1
        return number

    return line
