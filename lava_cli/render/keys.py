"""Rendering for `lava keys …` (and `lava run`'s summary): tables of keys, one key's
detail, the shown-once moment, and the one-line outcomes of changes.

On a terminal: rich tables and relative times. Piped: tab-separated rows with ISO
times. `--json` goes through `Output.json`, never through here as rich. rich is
imported inside the functions, so importing this module costs nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING

from lava_cli.errors import LavaError
from lava_cli.render.output import markup_safe, money, relative
from lava_cli.safetext import printable

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey
    from lava_cli.render.output import Output

NARROW_DROP = ("shape", "models", "last used")
KEY_COLUMNS = (
    "id",
    "name",
    "status",
    "shape",
    "models",
    "spend",
    "requests",
    "last used",
    "expires",
)
STATUS_STYLES = {"active": "green", "paused": "yellow"}


# --- cells (also used by `lava run` and `lava prompt`) ------------------------------


def spend_text(key: SpendKey) -> str:
    if key.spend_limit is None:
        return f"{money(key.current_spend)} (no limit)"
    limit = key.spend_limit
    return f"{money(key.current_spend)} / {money(limit.amount)} {limit.cycle}"


def requests_text(key: SpendKey) -> str:
    if key.request_limit is None:
        return str(key.current_requests)
    return f"{key.current_requests} / {key.request_limit.count} {key.request_limit.cycle}"


def models_text(key: SpendKey) -> str:
    parts = []
    parts.append(",".join(key.allowed_models) if key.allowed_models else "all models")
    if key.allowed_providers:
        parts.append("providers " + ",".join(key.allowed_providers))
    return "; ".join(parts)


def rate_text(key: SpendKey) -> str:
    if key.rate_limit is None:
        return "-"
    burst = f" (burst {key.rate_limit.burst})" if key.rate_limit.burst is not None else ""
    return f"{key.rate_limit.rpm}/min{burst}"


def key_row(key: SpendKey, *, human: bool) -> list[str]:
    when = relative if human else (lambda v: v or "-")
    return [
        key.spend_key_id,
        key.name,
        key.status_at(datetime.now(timezone.utc)),
        key.request_shape,
        models_text(key),
        spend_text(key),
        requests_text(key),
        when(key.last_used_at),
        when(key.expires_at),
    ]


# --- whole answers -------------------------------------------------------------------


def keys_table(out: Output, keys: Sequence[SpendKey]) -> None:
    """`keys list`: a table on a terminal, one row per key when piped."""
    if not out.term.stdout_tty:
        out.tsv([key_row(k, human=False) for k in keys])
        return
    if not keys:
        out.note("No spend keys yet. Create one with `lava keys create --name NAME`.")
        return
    from rich.table import Table

    console = out.console()
    # Nine columns do not fit a narrow terminal: keep what identifies a key and
    # what it costs; `lava keys show KEY` has the rest.
    keep = list(range(len(KEY_COLUMNS)))
    if console.width < 140:
        keep = [i for i, c in enumerate(KEY_COLUMNS) if c not in NARROW_DROP]
    table = Table(box=None, header_style="bold", pad_edge=False)
    for i in keep:
        table.add_column(KEY_COLUMNS[i], no_wrap=i < 2, overflow="fold")
    for key in keys:
        row = [markup_safe(cell) for cell in key_row(key, human=True)]
        row[2] = f"[{STATUS_STYLES.get(row[2], 'red')}]{row[2]}[/]"
        table.add_row(*(row[i] for i in keep))
    console.print(table)


def key_detail(out: Output, key: SpendKey) -> None:
    """`keys show`, and the details after a change: one field per line."""
    fields = [
        ("id", key.spend_key_id),
        ("name", key.name),
        ("status", key.status_at(datetime.now(timezone.utc))),
        ("shape", key.request_shape),
        ("preview", key.key_preview),
        ("models", models_text(key)),
        ("spend", spend_text(key)),
        ("total spend", money(key.total_spend)),
        ("requests", requests_text(key)),
        ("total requests", str(key.total_requests)),
        ("rate limit", rate_text(key)),
        ("expires", key.expires_at or "never"),
        ("last used", key.last_used_at or "never"),
        ("created", key.created_at or "-"),
    ]
    if not out.term.stdout_tty:
        out.tsv(fields)
        return
    from rich.table import Table

    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in fields:
        timed = name in ("expires", "last used", "created") and value not in ("never", "-")
        table.add_row(name, markup_safe(f"{value} ({relative(value)})" if timed else value))
    out.console().print(table)


def new_key(out: Output, key: SpendKey, raw: str, *, verb: str, saved: str | None) -> None:
    """The shown-once moment: the raw key, unmistakably, then the details.

    The key and what to do with it go out as plain writes first, so nothing the
    server named the key can stop them; only then does rich draw the details. If
    that fails, the error says the key was already printed.
    """
    if not out.term.stdout_tty:
        out.tsv([[key.spend_key_id, key.name, key.status, key.request_shape, raw]])
        return
    paint = partial(out._paint, stdout=True)
    name, kid = printable(key.name), printable(key.spend_key_id)
    out._write(f"{paint('✓', '32')} {verb} spend key {paint(name, '1')} ({kid})")
    out._write("")
    out._write(f"  {paint(printable(raw), '1')}")
    out._write("")
    if saved:
        out._write(printable(f"Saved to {saved}. Use it with `--key {key.name}`."))
    else:
        # Re-running create with --save would make a second key: a rotate keeps this one.
        ref = key.name if key.name.isprintable() and " " not in key.name else key.spend_key_id
        out._write(
            f"{paint('This key is shown once.', '33')} Copy it now, or get a new value that "
            f"is saved: `lava keys rotate {printable(ref)} --save` (this value then stops working)."
        )
    out._write("")
    try:
        key_detail(out, key)
    except OSError:
        raise  # a closed pipe is not a rendering failure: main.py handles it
    except Exception as exc:
        raise LavaError(
            f"the key was {verb.lower()} and is printed above, "
            f"but showing its details failed ({type(exc).__name__})",
            hint=f"see them with `lava keys show {key.spend_key_id}`",
        ) from None


def changed(out: Output, key: SpendKey, verb: str, *, quiet: bool, json_: bool) -> None:
    """The outcome of update/pause/resume: the API object, the id, or the details."""
    if json_:
        out.json(key.raw)
    elif quiet:
        out.line(key.spend_key_id)
    else:
        if out.term.stdout_tty:
            out.note(f"✓ {verb} {key.name} ({key.spend_key_id})")
        key_detail(out, key)


def revoked(out: Output, kid: str, name: str, *, already: bool, quiet: bool, json_: bool) -> None:
    """The outcome of `keys revoke` (also of one revoked elsewhere before: `already`)."""
    if json_:
        out.json({"spend_key_id": kid, "name": name, "success": True, "already_revoked": already})
    elif quiet:
        out.line(kid)
    elif out.term.stdout_tty:
        out.note(
            f"✓ {name} ({kid}) was already revoked" if already else f"✓ Revoked {name} ({kid})"
        )
    else:
        out.tsv([[kid, name, "revoked"]])


def forgotten(out: Output, kid: str, name: str, *, quiet: bool, json_: bool) -> None:
    """The outcome of `keys forget`: local only, so it says the server is unchanged."""
    if json_:
        out.json({"spend_key_id": kid, "name": name, "forgotten": True})
    elif quiet:
        out.line(kid)
    else:
        out.note(
            f"✓ Forgot the saved key {name!r} ({kid}); on the server it is unchanged "
            f"(revoke it with `lava keys revoke {kid}` if it still exists)."
        )
