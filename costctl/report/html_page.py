"""The frame of every HTML report: one self-contained page (styles and the two small scripts
inline, nothing fetched), light and dark, printable, readable with scripts off."""

from __future__ import annotations

import base64
import hashlib
import html
from decimal import Decimal
from typing import Any

from costctl.money import number, rounded

# Bidirectional controls would reverse the text after them on the page (a name that reads as
# another): they are shown as escapes, as safe() shows other control characters.
_BIDI = {c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def esc(value: Any) -> str:
    """Text for HTML: every string from a config, a log or a proxy is hostile until escaped."""
    return html.escape("" if value is None else str(value), quote=True).translate(_BIDI)


def usd_text(value: Decimal) -> str:
    """A dollar amount for a person: $1,240.50 from a dollar up, up to 8 decimals below
    ($0.00012345), the exact digits when even those round to nothing."""
    size = abs(value)
    sign = "-" if value < 0 else ""
    if size >= 1:
        return f"{sign}${rounded(size, Decimal('0.01')):,.2f}"
    text = f"{rounded(size, Decimal('0.00000001')):.8f}".rstrip("0").rstrip(".")
    if text in ("0", "") and size:
        text = number(size)
    return f"{sign}${text or '0'}"


def usd(value: Decimal | str | None, signed: bool = False) -> str:
    """A dollar amount (usd_text), its exact value in the tooltip and in `data-usd`; with
    `signed`, a + before a gain."""
    if value is None:
        return "—"
    exact = Decimal(value)
    text = ("+" if signed and exact > 0 else "") + usd_text(exact)
    return f'<span class="usd" title="{esc(number(exact))} USD" data-usd="{esc(number(exact))}">{text}</span>'


def count(n: int) -> str:
    return f"{n:,}"


CSS = """
:root{--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--card:#f6f8fa;--accent:#0969da;
--custom:#0a7f8c;--default:#1a7f37;--fallback:#9a6700;--none:#cf222e;--recorded:#d1242f;--expected:#0969da;
--base:#8c959f;--head:#8250df;--warn-bg:#fff8c5;--bad-bg:#ffebe9;--ok-bg:#dafbe1;--badge-fg:#fff;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;
--card:#151b23;--accent:#4493f8;--custom:#39c5cf;--default:#3fb950;--fallback:#d29922;--none:#f85149;
--recorded:#ff7b72;--expected:#58a6ff;--base:#6e7681;--head:#bc8cff;--warn-bg:#3a2e05;--bad-bg:#42181b;
--ok-bg:#0f2d19;--badge-fg:#0d1117}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"DejaVu Sans",sans-serif}
main{max-width:1240px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);
padding-bottom:4px}
.sub,.muted{color:var(--muted)}.sub{margin:0 0 12px}
code,.mono{overflow-wrap:anywhere;font-size:12.5px;
font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:150px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:20px;font-weight:600}
.banner{border-radius:8px;padding:10px 14px;margin:12px 0;border:1px solid var(--line)}
.banner.bad{background:var(--bad-bg)}.banner.ok{background:var(--ok-bg)}.banner.warn{background:var(--warn-bg)}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
th{font-size:12px;color:var(--muted);font-weight:600;white-space:nowrap}
th[data-sort]{cursor:pointer}th[data-sort]:after{content:" \\2195";opacity:.4}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.group td{border-top:2px solid var(--line)}
.badge{display:inline-block;border-radius:10px;padding:0 7px;font-size:11px;font-weight:600;color:var(--badge-fg)}
.src-custom{color:var(--custom)}.src-default{color:var(--default)}.src-fallback{color:var(--fallback)}
.src-none{color:var(--none)}
.badge.src-custom{background:var(--custom);color:var(--badge-fg)}
.badge.src-default{background:var(--default);color:var(--badge-fg)}
.badge.src-fallback{background:var(--fallback);color:var(--badge-fg)}
.badge.src-none{background:var(--none);color:var(--badge-fg)}
.sev-error{background:var(--none)}.sev-warning{background:var(--fallback)}.sev-info{background:var(--base)}
.price,.nowrap{white-space:nowrap;overflow-wrap:normal}.price .big{font-weight:600}
.price .small{display:block;font-size:11px;color:var(--muted)}
.zero{background:var(--bad-bg)}
.note{background:var(--warn-bg);border-radius:4px;padding:1px 5px;display:inline-block;margin:1px 0}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin:4px 0}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.filter{width:100%;max-width:420px;padding:6px 10px;border:1px solid var(--line);border-radius:6px;
background:var(--bg);color:var(--fg);font:inherit;margin:6px 0}
.bar{height:10px;background:var(--recorded);border-radius:2px;display:inline-block;vertical-align:middle}
svg.chart{width:100%;height:auto;max-width:1190px;display:block}
svg.chart text{fill:var(--muted);font-size:11px;font-family:inherit}
svg.chart .grid{stroke:var(--line);stroke-width:1}
svg.chart .recorded{stroke:var(--recorded);fill:var(--recorded)}
svg.chart .expected{stroke:var(--expected);fill:var(--expected)}
svg.chart .base{stroke:var(--base);fill:var(--base)}svg.chart .head{stroke:var(--head);fill:var(--head)}
svg.chart path.line{fill:none;stroke-width:2}svg.chart path.area{stroke:none;opacity:.15}
details summary{cursor:pointer;color:var(--accent)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
footer{margin-top:32px;color:var(--muted);font-size:12px}
tr[hidden]{display:none}
@media print{body{background:#fff;color:#000}.filter,.noprint{display:none}main{max-width:none;padding:0}
h2{break-after:avoid}tr,svg{break-inside:avoid}details{display:block}}
"""

# Filter boxes and sortable columns; the page reads the same without them.
SCRIPT = """
(function(){
document.querySelectorAll('input.filter').forEach(function(box){
  var rows=document.querySelectorAll('#'+box.dataset.table+' > tbody > tr');
  var shown=document.getElementById(box.dataset.table+'-shown');
  box.addEventListener('input',function(){
    var q=box.value.trim().toLowerCase(),n=0;
    rows.forEach(function(r){var hit=!q||r.textContent.toLowerCase().indexOf(q)>=0;r.hidden=!hit;if(hit)n++;});
    if(shown)shown.textContent=n+' of '+rows.length;
  });
});
document.querySelectorAll('th[data-sort]').forEach(function(th){
  th.addEventListener('click',function(){
    var table=th.closest('table'),body=table.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th);
    var down=th.getAttribute('aria-sort')!=='descending',num=th.dataset.sort==='n';
    table.querySelectorAll('th[data-sort]').forEach(function(o){o.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',down?'descending':'ascending');
    var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){
      var x=a.cells[i].dataset.v||a.cells[i].textContent,y=b.cells[i].dataset.v||b.cells[i].textContent;
      var c=num?(parseFloat(x)-parseFloat(y)):x.localeCompare(y);
      return down?-c:c;
    });
    rows.forEach(function(r){body.appendChild(r);});
  });
});
// folded details print open
window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});
})();
"""


_SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()


def page(title: str, heading: str, subtitle: str, body: str, footer: str) -> str:
    """The whole document; every argument is HTML already escaped by the caller."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        # no network, ever: a report is opened offline, from CI artifacts and mail
        # and no script but the page's own (a name that escaped escaping could not run one)
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        f"style-src 'unsafe-inline'; script-src '{_SCRIPT_HASH}'; img-src data:\">"
        f"<title>{title}</title><style>{CSS}</style></head>\n<body><main>\n"
        f"<h1>{heading}</h1><p class=\"sub\">{subtitle}</p>\n{body}\n"
        f"<footer>{footer}</footer>\n</main><script>{SCRIPT}</script></body></html>\n"
    )


def section(title: str, body: str, ident: str = "") -> str:
    anchor = f' id="{ident}"' if ident else ""
    return f"<section{anchor}><h2>{title}</h2>\n{body}\n</section>\n"


def cards(items: list[tuple[str, str, str]]) -> str:
    """Headline figures: (label, value HTML, element id)."""
    cells = "".join(f'<div class="card"><div class="k">{esc(k)}</div><div class="v" id="{ident}">{v}</div></div>'
                    for k, v, ident in items)
    return f'<div class="cards">{cells}</div>'


def filter_box(table_id: str, total: int, what: str) -> str:
    return (f'<input class="filter noprint" type="search" data-table="{table_id}" placeholder="Filter {esc(what)}…" '
            f'aria-label="Filter {esc(what)}"> <span class="muted noprint" id="{table_id}-shown">{total} of '
            f'{total}</span>')


def facts(items: list[tuple[str, str]]) -> str:
    """A definition list: (term, HTML value)."""
    return '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def legend(items: list[tuple[str, str]]) -> str:
    """Swatches: (css colour variable, label)."""
    return '<div class="legend">' + "".join(
        f'<span><span class="sw" style="background:var(--{c})"></span>{esc(label)}</span>' for c, label in items) + "</div>"
