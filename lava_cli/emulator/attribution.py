"""What a gateway call says about itself: metadata, a customer id and a meter id.

They end up on the request's record (``GET /v1/requests``: ``metadata``,
``customer_id``, ``meter_id``) and are what ``?metadata_filters=``, ``?customer_id=``
and ``?meter_id=`` select by. The rules (contract.py has the names and limits):

- Metadata comes from the call's own SDK parameter and from headers, merged:
  - the body's ``metadata``: OpenAI's field on ``/v1/chat/completions`` (an object of
    strings, what ``client.chat.completions.create(metadata=…)`` sends) and
    Anthropic's on ``/v1/messages`` (``{"user_id": …}``, what
    ``client.messages.create(metadata=…)`` sends; other keys are a 400, as Anthropic
    answers);
  - ``X-Lava-Metadata-<Key>: <value>`` headers (Lava's cookbook tags requests this
    way): the key is the rest of the header name, lower-case (HTTP header names are
    case-insensitive and arrive lower-cased), the value UTF-8. A header wins over a
    body key of the same name.
  At most 16 pairs, keys 1-64 characters, values up to 512 (OpenAI's limits).
- ``X-Lava-Customer-Id`` and ``X-Lava-Meter-Id`` headers: 1-255 visible ASCII
  characters; absent (or empty) is null.

A malformed one is a 400 naming the field or header, after the key checks (it is part
of the request, like the body), so a call is never recorded with its tags dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lava_cli.emulator.contract import (
    CUSTOMER_HEADER,
    MAX_METADATA_KEY,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE,
    MAX_TAG_ID,
    METADATA_HEADER_PREFIX,
    METER_HEADER,
)
from lava_cli.emulator.schema import Tags
from lava_cli.emulator.wire import InvalidRequest

ANTHROPIC_USER_ID_MAX = 256  # Anthropic's limit on metadata.user_id
_PREFIX = METADATA_HEADER_PREFIX.encode("ascii")


def call_tags(shape: str, body: Any, raw_headers: Sequence[tuple[bytes, bytes]]) -> Tags:
    """The tags of one gateway call: `body` is its parsed JSON (already checked to be
    an object by wire.py), `raw_headers` the request's header pairs as received."""
    metadata = dict(_body_metadata(shape, body.get("metadata") if isinstance(body, dict) else None))
    seen: set[bytes] = set()
    ids: dict[bytes, str] = {}
    for raw_name, raw_value in raw_headers:
        name = raw_name.lower()
        if name.startswith(_PREFIX) or name in (CUSTOMER_HEADER.encode(), METER_HEADER.encode()):
            if name in seen:
                raise InvalidRequest(f"{name.decode('latin-1')}: given more than once")
            seen.add(name)
        if name.startswith(_PREFIX):
            key = name[len(_PREFIX) :].decode("latin-1")
            metadata[_key(key, name.decode("latin-1"))] = _value(
                _utf8(raw_value, name), name.decode("latin-1")
            )
        elif name in (CUSTOMER_HEADER.encode(), METER_HEADER.encode()):
            ids[name] = _tag_id(raw_value, name.decode("latin-1"))
    if len(metadata) > MAX_METADATA_PAIRS:
        raise InvalidRequest(
            f"metadata: at most {MAX_METADATA_PAIRS} pairs (the body's metadata and the "
            f"{METADATA_HEADER_PREFIX}* headers together), got {len(metadata)}"
        )
    return Tags(
        metadata=tuple(metadata.items()),
        customer_id=ids.get(CUSTOMER_HEADER.encode()) or None,
        meter_id=ids.get(METER_HEADER.encode()) or None,
    )


def _body_metadata(shape: str, value: Any) -> Mapping[str, str]:
    """The body's ``metadata`` in the endpoint's own rules (see the module docstring)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest("metadata: must be an object")
    if shape == "anthropic":
        extra = sorted(set(value) - {"user_id"})
        if extra:
            raise InvalidRequest(f"metadata.{extra[0]}: extra inputs are not permitted")
        user_id = value.get("user_id")
        if user_id is None:
            return {}
        if not isinstance(user_id, str) or len(user_id) > ANTHROPIC_USER_ID_MAX:
            raise InvalidRequest(
                f"metadata.user_id: must be a string of at most {ANTHROPIC_USER_ID_MAX} characters"
            )
        return {"user_id": user_id}
    if len(value) > MAX_METADATA_PAIRS:
        raise InvalidRequest(f"metadata: at most {MAX_METADATA_PAIRS} pairs, got {len(value)}")
    return {_key(k, "metadata"): _value(v, f"metadata.{k}") for k, v in value.items()}


def _key(key: str, where: str) -> str:
    if not 1 <= len(key) <= MAX_METADATA_KEY:
        raise InvalidRequest(f"{where}: a metadata key must be 1 to {MAX_METADATA_KEY} characters")
    return key


def _value(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{where}: a metadata value must be a string")
    if len(value) > MAX_METADATA_VALUE:
        raise InvalidRequest(
            f"{where}: a metadata value is at most {MAX_METADATA_VALUE} characters"
        )
    return value


def _utf8(raw: bytes, name: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest(f"{name.decode('latin-1')}: the value is not UTF-8") from None


def _tag_id(raw: bytes, name: str) -> str:
    """A customer or meter id: visible ASCII, at most `MAX_TAG_ID` characters."""
    text = raw.decode("latin-1").strip()
    if len(text) > MAX_TAG_ID or not all(0x21 <= ord(c) <= 0x7E for c in text):
        raise InvalidRequest(
            f"{name}: must be 1 to {MAX_TAG_ID} visible ASCII characters (an id, no spaces)"
        )
    return text
