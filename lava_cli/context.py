"""AppContext: everything a command needs, built lazily.

Streams, terminal flags, colour policy, the profile, and factories for the config,
the secret and the API client. `--help` and shell completion never touch the
factories, so they never import httpx, rich or keyring.
"""

from __future__ import annotations

import os
import sys
from functools import cached_property
from typing import TYPE_CHECKING, TextIO

from lava_cli.config import (
    DEFAULT_PROFILE,
    LIVE_BASE_URL,
    Config,
    check_base_url,
    default_base_url,
    validate_profile_name,
)
from lava_cli.credentials import Secret, not_logged_in, resolve_secret, scrub
from lava_cli.envvars import env_int, env_seconds
from lava_cli.errors import LavaError

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.gateway import GatewayClient
    from lava_cli.render.output import Output


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class AppContext:
    """Per-invocation state. Build one per run; tests build their own with fake streams.

    A plain class, not a dataclass: every command imports this module, and a dataclass
    costs ~0.6 ms of exec() at import."""

    def __init__(
        self,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        profile_flag: str | None = None,
        base_url_flag: str | None = None,
        verbose: bool = False,
    ) -> None:
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.profile_flag = profile_flag
        self.base_url_flag = base_url_flag
        self.verbose = verbose
        self._client: LavaClient | None = None
        self._public: LavaClient | None = None
        self._found: Secret | None = None  # find_secret's answer, once it found one

    # -- terminal policy ----------------------------------------------------------

    @cached_property
    def stdout_tty(self) -> bool:
        return _isatty(self.stdout)

    @cached_property
    def stderr_tty(self) -> bool:
        return _isatty(self.stderr)

    @cached_property
    def stdin_tty(self) -> bool:
        return _isatty(self.stdin)

    @cached_property
    def color(self) -> bool:
        """Colour only on a terminal, and never with NO_COLOR or TERM=dumb."""
        if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
            return False
        return self.stdout_tty

    @property
    def can_prompt(self) -> bool:
        """Questions need a person at a terminal on both ends."""
        return self.stdin_tty and self.stderr_tty

    @cached_property
    def out(self) -> Output:
        """Output for this run's streams, following the terminal policy decided here."""
        from lava_cli.render.output import Output, Terminal

        terminal = Terminal(
            self.stdout, self.stderr, self.stdout_tty, self.stderr_tty, color=self.color
        )
        return Output(terminal)

    # -- settings -------------------------------------------------------------------

    @cached_property
    def profile(self) -> str:
        if self.profile_flag:
            return validate_profile_name(self.profile_flag, "--profile")
        return validate_profile_name(
            os.environ.get("LAVA_PROFILE") or DEFAULT_PROFILE, "LAVA_PROFILE"
        )

    @cached_property
    def config(self) -> Config:
        return Config.load()

    @property
    def profile_settings(self) -> dict[str, object]:
        return self.config.profile(self.profile)

    def secret(self) -> Secret:
        """The management secret, or exit 3 with a hint."""
        found = self.find_secret()
        if found is None:
            raise not_logged_in(self.profile)
        return found

    def find_secret(self) -> Secret | None:
        """The management secret, or None when there is none. Found once per command:
        each keyring read is a thread and up to LAVA_KEYRING_TIMEOUT, and several steps
        of one command ask (the base URL, the client, a refusal's explanation). A failure
        is not kept: asking again reads again."""
        if self._found is not None:
            return self._found
        # LAVA_SECRET_KEY wins over the profile's store, so with it the config file is
        # not read (nor platformdirs imported to find it) unless something else needs it.
        found = resolve_secret(self.profile, None)
        if found is None:
            storage = self.profile_settings.get("secret_storage")
            found = resolve_secret(self.profile, storage if isinstance(storage, str) else None)
        self._found = found
        return found

    def base_url(self, secret: str | None = None) -> tuple[str, str]:
        """(URL, where it came from): flag, env, profile, or the default for the secret's mode.

        The one resolution that management calls, the gateway, `env` and `run` all use, so
        a test-mode secret sends a tool to the sandbox as it does `keys create`. `secret`
        is for a caller holding one not yet stored (`login`); otherwise LAVA_SECRET_KEY or
        the profile's store decides, and none at all means the live host. The same
        secret decides whether plain http to a LAVA_ALLOW_HTTP_HOSTS host is allowed
        (config.check_base_url).
        """
        if self.base_url_flag:
            url, source, named = self.base_url_flag, "--base-url", "--base-url"
        elif os.environ.get("LAVA_BASE_URL"):
            url = os.environ["LAVA_BASE_URL"]
            source = named = "LAVA_BASE_URL"
        else:
            saved = self.profile_settings.get("base_url")
            if not (isinstance(saved, str) and saved):
                url = default_base_url(secret if secret is not None else self.secret_for_mode)
                return url, "default" if url == LIVE_BASE_URL else "default for aks_test_ secrets"
            url, source = saved, f"profile {self.profile!r}"
            named = f"the base_url of {source} in {self.config.path}"
        # The http policy weighs the secret given, else this profile's, read only when
        # asked (plain http to a named host): an https URL needs none, and reading the
        # keyring for nothing would make every command pay for it.
        policy = secret if secret is not None else (lambda: self.secret_for_mode)
        return check_base_url(url, named, secret=policy), source

    @cached_property
    def secret_for_mode(self) -> str | None:
        """The management secret, only to choose the default host and the http policy: a
        command that needs no secret (`env` with LAVA_SPEND_KEY) must not fail because
        the keyring does."""
        try:
            found = self.find_secret()
        except LavaError as exc:
            self.log(f"base URL: cannot read the secret's mode ({exc.message}); using live")
            return None
        return found.value if found is not None else None

    def log(self, line: str) -> None:
        """--verbose output: stderr only, secrets scrubbed whatever the caller passed."""
        if self.verbose:
            from lava_cli.safetext import printable

            self.stderr.write(printable(scrub(line)) + "\n")
            self.stderr.flush()

    def client(self, secret: Secret | None = None, *, base_url: str | None = None) -> LavaClient:
        """The API client for this profile (cached); resolves the secret unless given."""
        if self._client is None:
            if secret is None:
                secret = self.secret()
            url = base_url or self.base_url(secret.value)[0]
            self._client = self._new_client(url, secret.value)
        return self._client

    def public_client(self) -> LavaClient:
        """A client for the public endpoints (`/models`, `/services`): no login needed.

        It carries the management secret when there is one, so an `aks_test_` secret
        sends these calls to the sandbox like every other call; without one it sends no
        secret at all. Either way, the same deadlines, retries and --verbose log.
        """
        secret = self.find_secret()
        if secret is not None:
            return self.client(secret)
        if self._public is None:
            self._public = self._new_client(self.base_url()[0], None)
        return self._public

    def gateway(self, spend_key: str, default_timeout: float) -> GatewayClient:
        """A gateway client for one spend key, at this profile's base URL (the same
        resolution as management calls), with LAVA_TIMEOUT (else `default_timeout`: a
        streamed reply needs longer than a probe) and the --verbose log. The caller
        closes it."""
        from lava_cli.api.gateway import GatewayClient

        return GatewayClient(
            self.base_url()[0],
            spend_key,
            timeout=env_seconds("LAVA_TIMEOUT", default_timeout),
            log=self.log if self.verbose else None,
            management_secret=lambda: self.secret_for_mode,
        )

    def _new_client(self, url: str, secret: str | None) -> LavaClient:
        from lava_cli.api.client import LavaClient

        return LavaClient(
            url,
            secret,
            timeout=env_seconds("LAVA_TIMEOUT", 30.0),
            max_retries=env_int("LAVA_MAX_RETRIES", 3, 0, 10),
            log=self.log if self.verbose else None,
        )

    def close(self) -> None:
        for client in (self._client, self._public):
            if client is not None:
                client.close()
        self._client = self._public = None
