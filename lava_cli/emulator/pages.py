"""The HTML the emulator shows a browser (the login page, the payment confirmation
page): one style, one frame, and form bodies read under the body cap.

Everything interpolated into a page goes through `html.escape` at the call site.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from starlette.requests import Request

from lava_cli.emulator.bodies import read_body

STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f5f2;
color:#1d1d1f;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:14px;box-shadow:0 2px 14px rgba(0,0,0,.08);
padding:32px 36px;max-width:440px;width:100%}
h1{font-size:22px;margin:0 0 8px}p{margin:8px 0;color:#444}
dl{display:grid;grid-template-columns:auto 1fr;gap:6px 16px;margin:20px 0;padding:14px 16px;
background:#f6f5f2;border-radius:10px}dt{color:#666}dd{margin:0;font-family:ui-monospace,monospace}
.actions{display:flex;gap:12px;margin-top:24px}form{margin:0}
button{font:inherit;padding:10px 22px;border-radius:8px;border:1px solid #ccc;background:#fff;
cursor:pointer}button.primary{background:#e8542f;border-color:#e8542f;color:#fff}
.note{font-size:13px;color:#777}
"""


def page(title: str, body: str) -> str:
    """A whole page around `body` (already escaped HTML)."""
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def facts(rows: list[tuple[str, str, str]]) -> str:
    """A definition list of (label, element id, value) rows, values escaped."""
    return (
        "<dl>"
        + "".join(
            f"<dt>{html.escape(label)}</dt><dd id={ident}>{html.escape(value)}</dd>"
            for label, ident, value in rows
        )
        + "</dl>"
    )


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (capped: bodies.BodyTooLarge),
    first value of each field."""
    form = parse_qs((await read_body(request)).decode("utf-8", "replace"))
    return {name: values[0] for name, values in form.items() if values}
