"""Rendering for `lava keys …` (and `lava run`'s summary): tables of keys, one key's
detail, the shown-once moment, and the one-line outcomes of changes.

On a terminal: rich tables and relative times. Piped: tab-separated rows with ISO
times. `--json` goes through `Output.json`, never through here as rich. rich is
imported inside the functions, so importing this module costs nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

from lava_cli.errors import LavaError
from lava_cli.render.output import markup_safe, money, relative
from lava_cli.safetext import printable

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey
    from lava_cli.render.output import Output

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
# On a terminal: the columns in the order shown, and the order they give way in when
# the terminal is too narrow (never: id, name; first: preview, which only a wide
# terminal has room for). `lava keys show KEY` has everything.
TABLE_COLUMNS = (*KEY_COLUMNS, "preview")
KEEP_ORDER = ("status", "spend", "expires", "requests", "last used", "models", "shape", "preview")
WIDE_ONLY = frozenset({"preview"})  # shown only when every name fits whole beside them
NAME_MIN = 8  # a longer name is shortened with an ellipsis before a column is dropped
GAP = 2  # rich's padding between two columns of a borderless table
DEFAULT_MARK = "*"
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


def keys_table(out: Output, keys: Sequence[SpendKey], default_id: str | None = None) -> None:
    """`keys list`: a table on a terminal, one row per key when piped.

    Piped, each row ends with `default` for the profile's default key (`-` for the
    others). On a terminal a `*` column marks it, every row is one line (a name's
    newline shows as `\\n`), ids are never cut, a long name ends in `…`, and columns
    give way by `KEEP_ORDER` when the terminal is too narrow for them.
    """
    if not out.term.stdout_tty:
        marks = ["default" if k.spend_key_id == default_id else "-" for k in keys]
        out.tsv([[*key_row(k, human=False), mark] for k, mark in zip(keys, marks, strict=True)])
        return
    if not keys:
        out.note("No spend keys yet. Create one with `lava keys create --name NAME`.")
        return
    from rich.cells import cell_len
    from rich.table import Table

    console = out.console()
    texts = [[*map(printable, key_row(k, human=True)), printable(k.key_preview)] for k in keys]
    rows = [dict(zip(TABLE_COLUMNS, row, strict=True)) for row in texts]
    for row in rows:  # `$1.20/$25.00 monthly`: two cells fewer, and the expiry fits in 80
        row["spend"], row["requests"] = (row[c].replace(" / ", "/") for c in ("spend", "requests"))
    widths = {c: max(cell_len(c), *(cell_len(r[c]) for r in rows)) for c in TABLE_COLUMNS}
    marked = any(k.spend_key_id == default_id for k in keys)
    shown, name_width = fit_columns(widths, console.width - (1 + GAP if marked else 0))
    table = Table(box=None, header_style="bold", pad_edge=False)
    if marked:
        table.add_column("", width=1, no_wrap=True)
    for column in shown:
        width = name_width if column == "name" else widths[column]
        table.add_column(column, width=width, no_wrap=True, overflow="ellipsis")
    for key, row in zip(keys, rows, strict=True):
        cells = [markup_safe(row[c]) for c in shown]
        if "status" in shown:
            i = shown.index("status")
            cells[i] = f"[{STATUS_STYLES.get(row['status'], 'red')}]{cells[i]}[/]"
        mark = [DEFAULT_MARK if key.spend_key_id == default_id else ""] if marked else []
        table.add_row(*mark, *cells)
    # Wider than the terminal only when id and a shortened name alone are: the terminal
    # then wraps the line, but no id is ever cut.
    needed = sum(widths[c] for c in shown if c != "name") + name_width
    needed += GAP * (len(shown) - 1) + (1 + GAP if marked else 0)
    console.print(table, width=max(console.width, needed))
    if marked:
        out.line(f"{DEFAULT_MARK} the default key (`lava keys default`)")


def fit_columns(widths: dict[str, int], room: int) -> tuple[list[str], int]:
    """The columns that fit in `room` cells, in display order, and the name's width.

    id and name always stay (the name shortened to NAME_MIN first); the others are
    added in KEEP_ORDER while they fit, and the first that does not ends the list,
    so a column never shows while a more important one is missing. What is left
    widens the name, up to its longest; a WIDE_ONLY column never costs a name its end.
    """
    name_min = min(widths["name"], NAME_MIN)
    used = widths["id"] + GAP + name_min
    kept = {"id", "name"}
    for column in KEEP_ORDER:
        whole_name = widths["name"] - name_min if column in WIDE_ONLY else 0
        if used + GAP + widths[column] + whole_name > room:
            break
        kept.add(column)
        used += GAP + widths[column]
    name_width = min(widths["name"], name_min + max(0, room - used))
    return [c for c in TABLE_COLUMNS if c in kept], name_width


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


def default_key(
    out: Output,
    info: Mapping[str, Any],
    notes: Sequence[str],
    *,
    set_: bool,
    quiet: bool,
    json_: bool,
) -> None:
    """`keys default`: the object (--json), the id (-q), `id<TAB>name<TAB>shape` piped,
    or a sentence on a terminal (with `notes` about the profile's other defaults)."""
    kid, name = str(info["spend_key_id"]), str(info.get("name") or info["spend_key_id"])
    if json_:
        out.json(dict(info))
    elif quiet:
        out.line(kid)
    elif not out.term.stdout_tty:
        out.tsv([[kid, name, str(info.get("request_shape") or "-")]])
    else:
        verb = "is now" if set_ else "is"
        shape = info.get("request_shape") or "unknown"
        out.line(f"The default key {verb} {name} ({kid}), {shape} shape.")
        for note in notes:
            out.line(note)
