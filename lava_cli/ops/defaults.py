"""`lava keys default`: the profile's default key, and the spend limit of keys lava
creates for itself.

The default key is what `lava prompt` and `lava env` use when no `--key` (nor
LAVA_SPEND_KEY) says otherwise. It must be a key saved in this profile, since they
need its value; the first key saved becomes the default, and `keys default KEY`
changes it. Without KEY the command prints it (`-q`: the id; piped: id, name, shape;
`--json`: an object), so a script can learn it; exit 4 when there is none.

Keys lava creates by itself (`prompt`'s `lava-cli` key, `env --create`) would
otherwise have no limit at all. They get a spend limit: LAVA_AUTO_KEY_LIMIT, else the
profile's `auto_key_limit` (set with `keys default --auto-limit`), else
`DEFAULT_AUTO_LIMIT`; `none` means no limit. It is stated when such a key is created.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple

from lava_cli.errors import LavaError, NotFoundError, UsageError

if TYPE_CHECKING:
    from lava_cli.context import AppContext

AUTO_LIMIT_ENV = "LAVA_AUTO_KEY_LIMIT"
AUTO_LIMIT_SETTING = "auto_key_limit"
DEFAULT_AUTO_LIMIT = "10/monthly"
NO_LIMIT = ("none", "off")


class AutoLimit(NamedTuple):
    """The spend limit for a key lava creates itself: the API's body (None: no limit),
    as written, and where it came from (for the note that states it)."""

    body: dict[str, str] | None
    text: str
    source: str


def parse_auto_limit(text: str, source: str) -> AutoLimit:
    """`AMOUNT/CYCLE` or `none`; a bad value is exit 2 naming `source` (flag, variable
    or config file)."""
    from lava_cli.parsing import parse_spend_limit

    word = text.strip()
    if word.lower() in NO_LIMIT:
        return AutoLimit(None, "none", source)
    return AutoLimit(parse_spend_limit(word, source), word, source)


def auto_limit(app: AppContext) -> AutoLimit:
    """LAVA_AUTO_KEY_LIMIT, else the profile's `auto_key_limit`, else the default."""
    env = os.environ.get(AUTO_LIMIT_ENV, "").strip()
    if env:
        return parse_auto_limit(env, AUTO_LIMIT_ENV)
    saved = app.profile_settings.get(AUTO_LIMIT_SETTING)
    if isinstance(saved, str) and saved.strip():
        where = f"the {AUTO_LIMIT_SETTING} of profile {app.profile!r} in {app.config.path}"
        return parse_auto_limit(saved, where)
    return parse_auto_limit(DEFAULT_AUTO_LIMIT, "default")


def limit_words(limit: AutoLimit) -> str:
    """`a spend limit of $10.00 monthly` / `no spend limit`, for the creation note."""
    if limit.body is None:
        return "no spend limit"
    from decimal import Decimal

    from lava_cli.render.output import money

    return f"a spend limit of {money(Decimal(limit.body['amount']))} {limit.body['cycle']}"


def creation_note(limit: AutoLimit, name: str) -> str:
    """The sentence after a self-made key's creation: its limit, and how to change it."""
    where = {"default": "the default", AUTO_LIMIT_ENV: f"from {AUTO_LIMIT_ENV}"}.get(
        limit.source, "from this profile's setting"
    )
    return (
        f"It has {limit_words(limit)} ({where}): change it with "
        f"`lava keys update {name} --spend-limit AMOUNT/CYCLE`, and for new keys with "
        f"{AUTO_LIMIT_ENV} or `lava keys default --auto-limit`."
    )


class DefaultOptions(NamedTuple):
    key: str | None = None
    auto_limit: AutoLimit | None = None
    quiet: bool = False
    json_: bool = False


def default_options(
    key: str | None, auto: str | None, *, quiet: bool, json_: bool
) -> DefaultOptions:
    """Parse `keys default`'s flags (exit 2 before anything is read or written)."""
    if key is not None and not key.strip():
        raise UsageError("KEY is empty", hint="leave it out to print the default key")
    parsed = parse_auto_limit(auto, "--auto-limit") if auto is not None else None
    return DefaultOptions(key, parsed, quiet, json_)


def run_default(app: AppContext, opts: DefaultOptions) -> None:
    """Set what was given, then print the default key (exit 4 when asked for it and
    there is none)."""
    from lava_cli.ops.saved import default_saved, set_profile_setting
    from lava_cli.render.keys import default_key

    if opts.auto_limit is not None:
        set_profile_setting(app, AUTO_LIMIT_SETTING, opts.auto_limit.text)
        words = limit_words(opts.auto_limit)
        app.out.note(f"✓ Keys lava creates itself in profile {app.profile!r} get {words}.")
    if opts.key is not None:
        kid = _saved_id(app, opts.key)
        set_profile_setting(app, "default_key", kid)
    found = default_saved(app)
    if found is None and opts.auto_limit is not None and opts.key is None:
        return  # only the limit was asked for
    if found is None:
        raise NotFoundError(
            f"profile {app.profile!r} has no default key",
            hint="`lava keys default KEY` makes a saved key the default; the first key "
            "saved with --save becomes it",
        )
    kid, meta = found
    limit = auto_limit(app)
    info: dict[str, Any] = {
        "spend_key_id": kid,
        "name": meta.get("name"),
        "request_shape": meta.get("request_shape"),
        "key_preview": meta.get("key_preview"),
        "auto_key_limit": limit.body,
    }
    lines = (f"Keys lava creates itself get {limit_words(limit)}.",)
    default_key(app.out, info, lines, set_=opts.key is not None, quiet=opts.quiet, json_=opts.json_)


def _saved_id(app: AppContext, ref: str) -> str:
    """The id of the saved key `ref` names: locally by id, name or preview, else asked
    of the server (a preview recorded before previews were kept)."""
    from lava_cli.ops.saved import find_saved, saved_keys

    found = find_saved(app, ref)
    if found is not None:
        return found[0]
    kid: str | None = None
    if app.find_secret() is not None:
        from lava_cli.ops.keys import resolve_key

        try:
            kid = resolve_key(app.client(), ref).spend_key_id
        except NotFoundError:
            kid = None
        except LavaError as exc:
            app.log(f"keys default: could not ask the server about {ref!r}: {exc.message}")
    if kid is not None and kid in saved_keys(app):
        return kid
    saved = ", ".join(
        str(meta.get("name") or k) for k, meta in saved_keys(app).items() if isinstance(meta, dict)
    )
    raise NotFoundError(
        f"{ref!r} is not a key saved in profile {app.profile!r}; the default must be one, "
        "since commands need its value",
        hint=(f"saved here: {saved}" if saved else "no key is saved here")
        + "; save one with `lava keys create --name NAME --save`, or "
        "`lava keys rotate KEY --save` (a new value: the old one stops working)",
    )
