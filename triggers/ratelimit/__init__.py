"""Per-API-key rate limiting (docs/API.md "Rate limits", docs/ARCHITECTURE.md).

Each worker holds a token bucket per key (`bucket`) and spends tokens it leased from a
shared per-key counter in DynamoDB (`leases`), a few dozen at a time; `limiter` puts
the two together and `throttle` is the DRF throttle and the `X-RateLimit-*` headers.
"""
