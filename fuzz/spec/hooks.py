"""Schemathesis hooks for `cargo xtask fuzz spec`.

Survey-link operations take a signed token as their credential. Generated strings only ever
reach the signature check, so besides them these hooks offer the real tokens minted for the
run (KPI_FUZZ_TOKENS, comma-separated): the answer paths past the check are fuzzed too.
Publishable-key requests carry the tenant's allowed origin (KPI_FUZZ_ORIGIN), as a widget's do.
"""
import os

import schemathesis
from hypothesis import strategies as st

TOKENS = [t for t in os.environ.get("KPI_FUZZ_TOKENS", "").split(",") if t]
ORIGIN = os.environ.get("KPI_FUZZ_ORIGIN", "")


def _with_tokens(generated):
    if not TOKENS or not isinstance(generated, str):
        return st.just(generated)
    return st.sampled_from([generated, *TOKENS])


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    if not isinstance(path_parameters, dict) or "token" not in path_parameters:
        return st.just(path_parameters)
    return _with_tokens(path_parameters["token"]).map(
        lambda t: {**path_parameters, "token": t}
    )


@schemathesis.hook
def flatmap_body(context, body):
    op = context.operation
    if op is None or op.path != "/v1/responses" or not isinstance(body, dict):
        return st.just(body)
    if "token" not in body:
        return st.just(body)
    return _with_tokens(body["token"]).map(lambda t: {**body, "token": t})


@schemathesis.hook
def map_headers(context, headers):
    op = context.operation
    if ORIGIN and op is not None and op.path.startswith("/v1/kpis"):
        headers = dict(headers or {})
        headers.setdefault("Origin", ORIGIN)
    return headers


# schemathesis 4.32.5 scans 2xx JSON bodies for same-origin links and calls urlsplit on every
# string that starts with "http://"; a stored comment or origin such as "http://[" then raises
# ValueError and aborts the whole run. A string that is no URL is simply no link.
from schemathesis.engine import observations as _observations

_same_origin_path = _observations._same_origin_path


def _same_origin_path_or_none(value, origin):
    try:
        return _same_origin_path(value, origin)
    except ValueError:
        return None


_observations._same_origin_path = _same_origin_path_or_none
