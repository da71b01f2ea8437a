"""The LiteLLM cost formula and the mismatch causes as SQL expressions, generated from one definition.

The reference engine prices a row with `RatePlan.cost` (pricing.py) and explains a mismatch with
`Reconciler.cause` (engine.py). Here the same arithmetic is written once as data — which rate
multiplies which token count — and rendered as SQL over a row that carries its token counts and,
joined from the price table, the rates of the plan it is billed under. Every rate in that table is
already multiplied by the request's uplift and the provider discount (exact: all of it is
multiplication of exact decimals), so a row's cost is one sum of products.

The rendering takes a `Dialect` so that the same expressions can later run in LiteLLM's own
PostgreSQL; DuckDB is the one used today.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# The token counts a row carries (columns of the parsed row).
TOKENS = ("pt", "ct", "cached", "writes", "w_short", "w1h", "w12h", "reasoning", "audio_in", "audio_out")

# (rate, the tokens billed at it): RatePlan.cost, term by term. Every count is >= 0 on this path,
# so "reasoning or audio output present" needs no branch: with both 0 the output term is ct.
TERMS: tuple[tuple[str, str], ...] = (
    ("input", "greatest({pt} - {cached} - {writes} - {audio_in}, 0)"),
    ("cache_read", "{cached}"),
    ("audio_input", "{audio_in}"),
    ("cache_write", "greatest({writes} - {w_short} - {w1h} - {w12h}, 0) + {w_short}"),
    ("cache_write_1h", "{w1h}"),
    ("cache_write_12h", "{w12h}"),
    ("output", "greatest({ct} - {reasoning} - {audio_out}, 0)"),
    ("reasoning", "{reasoning}"),
    ("audio_output", "{audio_out}"),
)
RATES = tuple(rate for rate, _ in TERMS)
# The plans a row is priced under: what it should cost, what the catalog default would charge
# (default-price) and what billing cached reads at the input price would charge
# (cache-not-discounted).
PLANS = ("eff", "def", "nc")
UNIT_FACTORS = (1000, 1_000_000)  # recorded = expected x factor, or expected / factor


@dataclass(frozen=True)
class Dialect:
    name: str
    money: str  # the exact decimal type every rate and amount is held in
    scale: int  # its digits after the point: rates must fit it exactly
    double: str = "DOUBLE"  # the floating-point type (only for the quick side of tolerance tests)

    def literal(self, value: Decimal) -> str:
        return f"CAST('{format(value, 'f')}' AS {self.money})"


DUCKDB = Dialect("duckdb", "DECIMAL(38,24)", 24)
POSTGRES = Dialect("postgres", "NUMERIC", 24, "DOUBLE PRECISION")


def rate_column(plan: str, rate: str) -> str:
    return f"{plan}_{rate}"


def cost(plan: str, row: str = "v", rates: str = "t") -> str:
    """USD of the row under `plan`, discount and uplift included."""
    names = {name: f"{row}.{name}" for name in TOKENS}
    return " + ".join(f"({tokens.format(**names)}) * {rates}.{rate_column(plan, rate)}" for rate, tokens in TERMS)


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
