"""What authenticating one request costs in each auth mode: µs per ``authenticate`` call.

Each mode is the API's own authenticator (``events_api.auth``) given the ``Authorization``
header a client sends — bearer parsing, verification, claims to a principal:

* ``static``  :class:`StaticTokenAuthenticator` over a token table of ``--static-tokens``
  entries (a lookup hashes the token and compares it with every entry, in constant time);
* ``hs256``   :class:`JwtAuthenticator` with the HS256 development secret;
* ``rs256``   :class:`JwtAuthenticator` with an RSA-2048 key from a real :class:`JwksCache`,
  which fetched the key set once from an in-memory transport (no network);
* ``es256``   the same with a P-256 key (ES256 is in the default algorithm list).

The keys are generated here. Every call verifies the signature, ``exp``, ``iss``, ``aud`` and
``sub`` (PyJWT keeps no cache of verified tokens). The modes take turns for ``--rounds`` rounds
of ``--calls`` calls each, one after the other on one uvloop event loop; each result is the
median round. Each line gives the CPU time per call (this thread's clock: it hardly moves when
other work on the machine takes the CPUs away) and the wall time per call; the ratios use CPU.

    .venv/bin/python benchmarks/api/bench_auth.py [--calls 5000] [--rounds 7] [--static-tokens 10]
"""

import argparse
import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
import msgspec
import uvloop
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from timing import median

from events_api.auth import (
    JwksCache,
    JwtAuthenticator,
    JwtVerifier,
    Principal,
    Scope,
    StaticTokenAuthenticator,
    new_token_entry,
)
from events_api.auth.static_tokens import encode_token_file, parse_static_tokens

ISSUER = "https://issuer.example"
AUDIENCE = "pipeline-events"
JWKS_URL = "https://issuer.example/.well-known/jwks.json"
# Generated per run, like the keys: at least 32 bytes, as the settings require.
HS256_SECRET = secrets.token_urlsafe(32)
TENANT = "tenant-bench"
Authenticate = Callable[[str], Awaitable[Principal]]


def claims() -> dict[str, Any]:
    """A caller's claims, valid for an hour."""
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "tenant": TENANT,
        "scope": "pipelines:read pipelines:write events:read events:write",
        "iat": now,
        "exp": now + 3600,
    }


def static_mode(entries: int) -> tuple[Authenticate, str]:
    """The static-token authenticator over ``entries`` tokens; the last one is presented."""
    minted = [
        new_token_entry(name=f"caller-{index}", tenant=TENANT, scopes=tuple(Scope))
        for index in range(entries)
    ]
    table = parse_static_tokens(encode_token_file([m.entry for m in minted]), source="bench")
    return StaticTokenAuthenticator(table).authenticate, f"Bearer {minted[-1].token}"


def hs256_mode() -> tuple[Authenticate, str]:
    """A JWT authenticator accepting only HS256 (development mode)."""
    verifier = JwtVerifier(
        issuer=ISSUER, audience=AUDIENCE, algorithms=[], keys=None, hs256_secret=HS256_SECRET
    )
    token = jwt.encode(claims(), HS256_SECRET, algorithm="HS256")
    return JwtAuthenticator(verifier).authenticate, f"Bearer {token}"


def jwks_mode(
    algorithm: str, private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
) -> tuple[Authenticate, str, httpx.AsyncClient, JwksCache]:
    """A JWT authenticator whose key comes from a JWKS cache over an in-memory transport."""
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    kid = f"{algorithm.lower()}-1"
    document = msgspec.json.encode({"keys": [{**jwk, "kid": kid, "alg": algorithm, "use": "sig"}]})

    def serve_jwks(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=document, headers={"content-type": "application/json"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(serve_jwks))
    cache = JwksCache(
        client,
        JWKS_URL,
        connect_timeout=2,
        timeout=5,
        min_refresh_interval=30,
        ttl=3600,
        clock=time.monotonic,
    )
    verifier = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, algorithms=[algorithm], keys=cache)
    token = jwt.encode(claims(), private_key, algorithm=algorithm, headers={"kid": kid})
    return JwtAuthenticator(verifier, jwks=cache).authenticate, f"Bearer {token}", client, cache


async def microseconds_per_call(
    authenticate: Authenticate, header: str, calls: int
) -> tuple[float, float]:
    """The mean CPU and wall time of ``calls`` sequential authentications, in µs."""
    cpu_started, started = time.thread_time(), time.perf_counter()
    for _ in range(calls):
        await authenticate(header)
    cpu, wall = time.thread_time() - cpu_started, time.perf_counter() - started
    return cpu / calls * 1e6, wall / calls * 1e6


async def run(args: argparse.Namespace) -> dict[str, list[tuple[float, float]]]:
    """Build the modes, check each authenticates, then time them in turns."""
    rs256 = jwks_mode("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    es256 = jwks_mode("ES256", ec.generate_private_key(ec.SECP256R1()))
    modes: dict[str, tuple[Authenticate, str]] = {
        "static": static_mode(args.static_tokens),
        "hs256": hs256_mode(),
        "rs256": rs256[:2],
        "es256": es256[:2],
    }
    try:
        for name, (authenticate, header) in modes.items():
            # Also the warm-up: the JWKS modes fetch their key set here.
            principal = await authenticate(header)
            if principal.tenant != TENANT:
                raise RuntimeError(f"{name} authenticated the wrong caller: {principal}")
        rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in modes}
        for _ in range(args.rounds):
            for name, (authenticate, header) in modes.items():
                rounds[name].append(await microseconds_per_call(authenticate, header, args.calls))
        return rounds
    finally:
        for _, _, client, cache in (rs256, es256):
            await cache.aclose()
            await client.aclose()


def report(rounds: dict[str, list[tuple[float, float]]], *, calls: int, static_tokens: int) -> None:
    """One line per mode, then the ratios."""
    print(f"auth benchmark: µs per authenticate call, {calls} calls per round")
    results = {name: median([cpu for cpu, _ in values]) for name, values in rounds.items()}
    for name, values in rounds.items():
        wall = median([wall for _, wall in values])
        every = " ".join(f"{cpu:.1f}" for cpu, _ in values)
        detail = f"  ({static_tokens} tokens in the table)" if name == "static" else ""
        print(
            f"auth {name:<7} CPU {results[name]:7.1f} µs/call  wall {wall:7.1f} µs/call  "
            f"(CPU per round: {every}){detail}"
        )
    for name in ("hs256", "rs256", "es256"):
        print(f"ratio {name}/static {results[name] / results['static']:.1f}x CPU per call")
    for name in ("rs256", "es256"):
        print(f"ratio {name}/hs256 {results[name] / results['hs256']:.1f}x CPU per call")


def main() -> None:
    """Parse the arguments, run, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--static-tokens", type=int, default=10)
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        rounds = runner.run(run(args))
    report(rounds, calls=args.calls, static_tokens=args.static_tokens)


if __name__ == "__main__":
    main()
