"""Local emulator of Lava's API (optional extra: starlette + uvicorn).

It is the independent oracle the client is tested against over HTTP: it keeps its own
reading of the contract (docs/lava-api.md) and imports nothing of the client but
``lava_cli.errors`` (import-linter's ``emulator-apart`` contract holds that).

Where things live (a new feature goes where its neighbours are):

- server.py: run it (thread or foreground); `ROUTE_PROVIDERS` is how routes plug in;
  what `serve` prints.
- secretfile.py: the secret `serve` generated, kept beside its database (0600).
- contract.py: every limit, name and choice of the contract, once; all checks, answers
  and the OpenAPI document import them.
- app.py: the management API (spend keys, /v1/models, /v1/services, /v1/wallet), its
  error shape, authentication (``aks_`` secrets and their ``lava_wk_`` alias), the
  JSON body reader and `route` the other route modules share.
- gateway.py: ``POST /v1/chat/completions`` and ``/v1/messages``, the order of checks.
- attribution.py: a gateway call's metadata, customer and meter (body and headers).
- limits.py: the gateway's policy checks and the token bucket (pure, no database).
- ledger.py: check-and-charge in one transaction; settling a forwarded request.
- replies.py: the offline model (tokenizer, deterministic replies).
- upstream.py: forwarding a model to a real provider: reserve, relay, settle.
- wire.py: OpenAI and Anthropic bodies, SSE frames, error bodies; request parsing.
- reads.py: ``GET /v1/requests[/{id}]`` and ``GET /v1/usage``, and their filters.
- records.py: one request record as the SDK's RestRequest (cost parts, charge).
- secretkeys.py: ``/v1/secret_keys``: a wallet's secret keys (list, create, delete).
- payments.py: ``/v1/payment_methods``, ``POST /v1/wallet/fund`` and the page that
  completes a ``requires_action`` payment; Idempotency-Key.
- pages.py: the HTML a browser sees (one style), and form bodies.
- paging.py: the cursor codec, ``?limit=`` and page cutting for every list.
- authflow.py: browser login (the authorize page and the code exchange) into the
  wallet the emulator was started with.
- openapi.py: the OpenAPI document of every route, at ``GET /openapi.json``.
- validation.py: create/update bodies, field by field.
- bodies.py: the body size cap and JSON the rest can trust.
- store.py, schema.py: SQLite state; the tables and the typed rows.
- migrations.py: bringing a database of an earlier emulator up to the tables.
- money.py: micro-dollars and the one text form of an amount.
- catalogue.py: models, providers, prices and the cost of a request (in two parts).
- cycles.py: the clock, stored/API timestamps and limit cycles.
- ids.py: ids, raw keys, secrets and their hashes.
- faults.py: injected failures for ``lava emulator serve --fault``.
"""
