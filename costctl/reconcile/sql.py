"""The LiteLLM cost formula and the mismatch causes as SQL expressions, generated from one definition.

The reference engine prices a row with `RatePlan.cost` (pricing.py) and explains a mismatch with
`Reconciler.cause` (reference.py). Here the same arithmetic is written once as data — which rate
multiplies which token count — and rendered as SQL over a row that carries its token counts and,
joined from the price table, the rates of the plan it is billed under. Every rate in that table is
already multiplied by the request's uplift and the provider discount (exact: all of it is
multiplication of exact decimals), so a row's cost is one sum of products.

The rendering takes a `Dialect` so that the same expressions can later run in LiteLLM's own
PostgreSQL; DuckDB is the one used today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from costctl.reconcile.model import JOIN_GROUP_KEYS, MISSING_TIMESTAMP, NONE, OUTSIDE_WINDOW, ROW_GROUP_KEYS

# The token counts a parsed row carries, as the usage block reports them (-1: text not reported).
REPORTED = ("pt", "ct", "cached", "writes", "w_short", "w1h", "w12h", "reasoning", "audio_in", "audio_out",
            "text_in", "image_in", "video_in", "c_text", "c_audio", "c_image", "text_out", "image_out", "video_out")

# What LiteLLM bills of them (`generic_cost_per_token`; pricing._input_cost / _output_cost), in
# steps a later step may build on: each step is one SELECT over the previous one.
BILLED_STEPS: tuple[dict[str, str], ...] = (
    {"b_caudio": "least(c_audio, cached)"},
    {"b_ctext": "least(c_text, cached - b_caudio)"},
    {"b_cimage": "least(c_image, cached - b_caudio - b_ctext)"},
    {"a0": "greatest(audio_in - b_caudio, 0)", "i0": "greatest(image_in - b_cimage, 0)",
     "t0": "greatest(greatest(text_in, 0) - b_ctext, 0)", "budget": "greatest(pt - cached - writes, 0)",
     "o0": "greatest(text_out, 0) - least(reasoning, greatest(text_out, 0), "
           "greatest(greatest(text_out, 0) + reasoning + audio_out + image_out + video_out - ct, 0))"},
    # cached and per-modality counts overlap: a modality bills only what the cache left
    {"overlap": "(cached > 0 OR writes > 0) AND t0 + cached + a0 + writes + i0 + video_in > pt"},
    {"b_audio": "CASE WHEN overlap THEN least(a0, budget) ELSE a0 END"},
    {"b_image": "CASE WHEN overlap THEN least(i0, budget - b_audio) ELSE i0 END"},
    {"b_video": "CASE WHEN overlap THEN least(video_in, budget - b_audio - b_image) ELSE video_in END"},
    {"b_text": "CASE WHEN overlap THEN budget - b_audio - b_image - b_video WHEN t0 = 0 "
               "THEN greatest(pt - cached - a0 - writes - i0 - video_in, 0) ELSE t0 END",
     "b_out": "CASE WHEN o0 <> 0 THEN o0 WHEN reasoning + audio_out + image_out + video_out = 0 THEN ct "
              "ELSE greatest(ct - reasoning - audio_out - image_out - video_out, 0) END"},
)

# (rate, the billed tokens at it): RatePlan.cost, term by term.
TERMS: tuple[tuple[str, str], ...] = (
    ("input", "{b_text}"),
    ("cache_read", "{cached} - {b_caudio} - {b_cimage}"),
    ("cache_read_audio", "{b_caudio}"),
    ("cache_read_image", "{b_cimage}"),
    ("audio_input", "{b_audio}"),
    ("image_input", "{b_image}"),
    ("video_input", "{b_video}"),
    ("cache_write", "greatest({writes} - {w_short} - {w1h} - {w12h}, 0) + {w_short}"),
    ("cache_write_1h", "{w1h}"),
    ("cache_write_12h", "{w12h}"),
    ("output", "{b_out}"),
    ("reasoning", "{reasoning}"),
    ("audio_output", "{audio_out}"),
    ("image_output", "{image_out}"),
    ("video_output", "{video_out}"),
    ("whole_input", "greatest({pt} - {cached} - {writes}, 0)"),
    ("whole_cache_read", "{cached}"),
    ("whole_cache_write", "{writes}"),
    ("whole_output", "greatest({ct} - {reasoning}, 0)"),
    ("whole_reasoning", "{reasoning}"),
    ("margin_fixed", "1"),  # cost_margin_config's fixed amount, once per request
)
TOKENS = REPORTED + tuple(name for step in BILLED_STEPS for name in step)
# The request facts a row's rates depend on besides its plan and prompt size: service tier,
# Vertex location, data residency, Anthropic's inference geo and speed.
RATE_KEYS = ("tier", "vloc", "resid", "geo", "speed")


def billed(relation: str, dialect: Dialect) -> str:
    """SELECT every column of `relation` plus the billed counts, one nested SELECT per step."""
    fence = dialect.fence
    query = relation
    for step in BILLED_STEPS:
        columns = ", ".join(f"{expr} AS {name}" for name, expr in step.items())
        query = f"SELECT *, {columns} FROM ({query}{fence}) b"
    return query


def rate_join(rates: str, row: str = "v") -> str:
    """SQL: the rate row of `rates` that matches the row's rate keys and prompt size."""
    keys = " AND ".join(f"{rates}.{k} = {row}.{k}" for k in RATE_KEYS)
    return f"{keys} AND {row}.pt BETWEEN {rates}.lo AND {rates}.hi"


RATES = tuple(rate for rate, _ in TERMS)
# The plans a row is priced under: what it should cost, what the catalog default would charge
# (default-price) and what billing cached reads at the input price would charge
# (cache-not-discounted).
PLANS = ("eff", "def", "nc")
UNIT_FACTORS = (1000, 1_000_000)  # recorded = expected x factor, or expected / factor


@dataclass(frozen=True)
class Dialect:
    """What differs between the SQL engines the pricing renders for."""

    name: str
    money: str  # the exact decimal type every rate and amount is held in
    scale: int  # its digits after the point: rates must fit it exactly
    double: str = "DOUBLE"  # the floating-point type (only for the quick side of tolerance tests)
    day: str = "strftime({ts}, '%Y-%m-%d')"  # a timestamp's UTC date as YYYY-MM-DD text
    any_value: str = "any_value"  # an aggregate giving one of the group's values
    group_all: bool = True  # GROUP BY ALL; else the grouped columns by position
    text_list: str = "from_json({json}, '[\"VARCHAR\"]')"  # a JSON list of strings as a list of text
    hash: str = "hash({text})"  # a 64-bit hash of a text (finds repeated request_ids cheaply)
    # Ends a subquery whose columns later steps use more than once. PostgreSQL pulls a plain
    # subquery up into its parent and repeats each column's expression at every use (the billed
    # steps would grow the cost formula exponentially); OFFSET 0 keeps it one step, computed once.
    fence: str = ""

    def literal(self, value: Decimal) -> str:
        return f"CAST('{format(value, 'f')}' AS {self.money})"


DUCKDB = Dialect("duckdb", "DECIMAL(38,24)", 24)
# LiteLLM's own database (rendered and tested against a golden file; executed by a later issue)
POSTGRES = Dialect("postgres", "NUMERIC", 24, "DOUBLE PRECISION", day="to_char({ts}, 'YYYY-MM-DD')",
                   any_value="min", group_all=False,
                   text_list="ARRAY(SELECT jsonb_array_elements_text(({json})::jsonb))",
                   hash="hashtextextended({text}, 0)", fence=" OFFSET 0")
DIALECTS = {d.name: d for d in (DUCKDB, POSTGRES)}


def rate_column(plan: str, rate: str) -> str:
    return f"{plan}_{rate}"


# Terms whose token count is 0 on every row without per-modality counts (and no negative cached
# count): the engine leaves them out of the SQL when the data has none, which halves the arithmetic.
MODALITY_TERMS = frozenset({"cache_read_audio", "cache_read_image", "image_input", "video_input", "image_output",
                            "video_output"})
MODALITY_COLUMNS = ("text_in", "image_in", "video_in", "c_text", "c_audio", "c_image", "text_out", "image_out",
                    "video_out")


def cost(plan: str, row: str = "v", rates: str = "t", skip: frozenset[str] = frozenset()) -> str:
    """USD of the row under `plan`, discount and uplift included; `skip`: terms known to be 0 for
    every row (a rate 0 in every plan, or a count 0 in every row)."""
    names = {name: f"{row}.{name}" for name in TOKENS}
    return " + ".join(f"({tokens.format(**names)}) * {rates}.{rate_column(plan, rate)}" for rate, tokens in TERMS
                      if rate not in skip) or "0"


@dataclass(frozen=True)
class Tolerance:
    """|a - b| <= max(usd, |b| x pct / 100), kept in exact integer-scaled arithmetic:
    pct / 100 = num / den, so the percentage test is |a - b| x den <= |b| x num."""

    usd: Decimal
    num: int
    den: int

    @classmethod
    def of(cls, usd: Decimal, pct: Decimal) -> "Tolerance":
        num, den = (pct / 100).as_integer_ratio()
        return cls(usd, num, den)

    def within(self, a: str, b: str, dialect: Dialect, scale: int = 1) -> str:
        """SQL: `a` is within tolerance of `b`, the dollar tolerance multiplied by `scale` (both
        sides of a test against expected / factor are multiplied by factor).

        The percentage test is decided in floating point when the row is clearly on one side
        (relative error 1e-16 against a band of 1e-9), and in exact decimals only at the edge,
        which keeps the exact products away from the type's limits; it cannot pass when
        |a - b| > |b| (pct <= 100)."""
        usd = dialect.literal(self.usd * scale)
        diff = f"abs(({a}) - ({b}))"
        if self.num == 0:
            return f"({diff} <= {usd})"
        p = self.num / self.den
        fd, fb = f"CAST({diff} AS {dialect.double})", f"CAST(abs({b}) AS {dialect.double})"
        return (f"(CASE WHEN {diff} <= {usd} THEN true WHEN {diff} > abs({b}) THEN false "
                f"WHEN {fd} < {fb} * {p * (1 - 1e-9)!r} THEN true WHEN {fd} > {fb} * {p * (1 + 1e-9)!r} THEN false "
                f"ELSE {diff} * {self.den} <= abs({b}) * {self.num} END)")


def cause(tol: Tolerance, dialect: Dialect, rec: str = "v.spend", exp: str = "expected",
          cost_def: str = "cost_def", cost_nc: str = "cost_nc", has_default: str = "k.has_default",
          cached: str = "v.cached", unknown: str = "k.unknown") -> str:
    """SQL: the mismatch cause of a row (NULL when it matches), in the reference's order."""
    within = tol.within
    units = [within(rec, f"({exp}) * {f}", dialect) for f in UNIT_FACTORS]
    units += [within(f"({rec}) * {f}", exp, dialect, f) for f in UNIT_FACTORS]
    return f"""CASE
        WHEN {unknown} THEN 'unknown-deployment'
        WHEN {within(rec, exp, dialect)} THEN NULL
        WHEN {rec} = 0 AND {exp} > 0 THEN 'zero-spend'
        WHEN {has_default} AND {within(rec, cost_def, dialect)} THEN 'default-price'
        WHEN {cached} <> 0 AND {within(rec, cost_nc, dialect)} THEN 'cache-not-discounted'
        WHEN {exp} <> 0 AND ({' OR '.join(units)}) THEN 'unit-error'
        ELSE 'other' END"""


# the parsed row's column of each of model.ROW_GROUP_KEYS
ROW_KEY_COLUMNS = {"team": "team", "api_key": "akey", "user": "usr"}


def group_key(name: str, dialect: Dialect) -> str:
    """SQL: the --group-by key `name` of a priced row, by model.py's rules: the keys worked out
    from the join (JOIN_GROUP_KEYS) come with the join key as g_<name>."""
    if name in JOIN_GROUP_KEYS:
        return f"g_{name}"
    if name in ROW_GROUP_KEYS:
        return f"coalesce(nullif({ROW_KEY_COLUMNS[name]}, ''), '{NONE}')"
    if name == "day":
        return f"coalesce({dialect.day.format(ts='ts')}, '{NONE}')"
    if name == "tag":  # a list: the row counts once in the totals and in each tag's group
        return f"CASE WHEN tags = '' THEN ARRAY['{NONE}'] ELSE {dialect.text_list.format(json='tags')} END"
    raise ValueError(f"--group-by {name} has no SQL")


def window_skips(since: datetime | None, until: datetime | None,
                 rows: str = "r") -> list[tuple[tuple[str, str], str]]:
    """((skip reason, detail), SQL selecting the src, ord of the parsed `rows` it skips) for
    --since/--until, in the reference's order (model.window_skip)."""
    return [(MISSING_TIMESTAMP, f"SELECT src, ord FROM {rows} WHERE fast AND ts IS NULL"),
            (OUTSIDE_WINDOW, f"SELECT src, ord FROM {rows} WHERE fast AND ts IS NOT NULL AND NOT "
                             f"{window(since, until)}")]


def _grouped(dialect: Dialect, columns: int) -> str:
    return "GROUP BY ALL" if dialect.group_all else "GROUP BY " + ", ".join(str(i + 1) for i in range(columns))


def repeated_hashes(dialect: Dialect, rows: str = "v0") -> str:
    """SQL: the request_id hashes more than one of `rows` has. Hashes (8 bytes) find the
    candidates: a table of every request_id would be ~10x larger; a GROUP BY can spill to disk."""
    h = dialect.hash.format(text="rid")
    return f"SELECT {h} AS h FROM {rows} {_grouped(dialect, 1)} HAVING count(*) > 1"


def repeats(dialect: Dialect, rows: str = "v0") -> str:
    """SQL: src, ord, rid of every row of `rows` whose request_id an earlier row (by src, ord)
    had: the exact comparison runs on the candidates only."""
    h = dialect.hash.format(text="rid")
    return (f"SELECT src, ord, rid FROM (SELECT src, ord, rid, row_number() OVER (PARTITION BY rid ORDER BY src, ord) "
            f"AS n FROM {rows} WHERE {h} IN ({repeated_hashes(dialect, rows)})) c WHERE n > 1")


def without(rows: str, left_out: str) -> str:
    """SQL: the rows of `rows` whose (src, ord) is not in `left_out`."""
    return (f"SELECT * FROM {rows} WHERE NOT EXISTS (SELECT 1 FROM {left_out} o WHERE o.src = {rows}.src "
            f"AND o.ord = {rows}.ord)")


def window(since: datetime | None, until: datetime | None) -> str:
    """SQL: the row's ts (UTC, without zone) within --since (inclusive) and --until (exclusive)."""
    def utc(moment: datetime) -> str:
        return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")

    conditions = ["ts IS NOT NULL"]
    if since is not None:
        conditions.append(f"ts >= TIMESTAMP '{utc(since)}'")
    if until is not None:
        conditions.append(f"ts < TIMESTAMP '{utc(until)}'")
    return "(" + " AND ".join(conditions) + ")"


def priced_rows(dialect: Dialect, tol: Tolerance, skip: frozenset[str] = frozenset()) -> str:
    """SQL: every parsed row `v` joined to its join key `k` and rate row `t`, with its expected
    cost (0 for cache hits and failures, as LiteLLM logs them) and its mismatch cause."""
    why = cause(tol, dialect, rec="spend", exp="expected", cost_def=cost("def", "x", "x", skip),
                cost_nc=cost("nc", "x", "x", skip), has_default="has_default", cached="cached", unknown="unknown")
    rate_columns = ", ".join(f"t.{rate_column(p, r)}" for p in ("def", "nc") for r in RATES)
    return f"""
            SELECT src, ord, rid, spend, pt, ct, expected, unknown, unpriced, akey, usr, team, tags, ts, g_model_group,
                   g_deployment, g_model, g_provider, mm_group, mm_model, {why} AS cause
            FROM (SELECT v.*, k.unknown, k.has_default, k.unpriced AND NOT v.hit AND NOT v.failed AS unpriced,
                         k.g_model_group, k.g_deployment, k.g_model, k.g_provider, k.mm_group, k.mm_model,
                         CASE WHEN v.hit OR v.failed THEN 0 ELSE {cost('eff', 'v', 't', skip)} END AS expected,
                         {rate_columns}
                  FROM v JOIN k USING (mid, mg, mdl, prov)
                  JOIN t ON t.pid = k.pid AND {rate_join('t', 'v')}
                  WHERE k.azure IS NULL{dialect.fence}) x"""


def aggregate(dialect: Dialect, group_by: tuple[str, ...]) -> str:
    """SQL: the priced rows `j` summed per (group keys, cause, unpriced), each mismatched row
    a group of its own (keyed by its position), so totals, causes, groups and mismatches all
    follow from one pass."""
    keys = ", ".join(f"{group_key(name, dialect)} AS g{i}" for i, name in enumerate(group_by))
    one = dialect.any_value
    group = _grouped(dialect, len(group_by) + 4)  # the keys, cause, unpriced, msrc, mord
    return (f"SELECT {keys}, cause, unpriced, "
            "CASE WHEN cause IS NOT NULL THEN src END AS msrc, CASE WHEN cause IS NOT NULL THEN ord END AS mord, "
            "count(*) AS n, sum(pt) AS pt, sum(ct) AS ct, sum(spend) AS rec, sum(expected) AS exp, "
            f"sum(abs(spend - expected)) AS drift, {one}(rid) AS rid, {one}(mm_group) AS mm_group, "
            f"{one}(g_deployment) AS deployment, {one}(mm_model) AS mm_model FROM j {group}")
