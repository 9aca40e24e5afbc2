"""The response cache's table (on ``storage.schema.metadata``, like the trail's).

``cache_entries``
    one row per cached answer, keyed by its exact key (a BLAKE2b-256 that covers the
    scope, see ``cache.exact_key``); ``scope`` is ``account/team/customer``. Semantic
    entries also keep their context ``fingerprint``, the embedded ``user_text`` and its
    ``embedding`` (float32, normalised), so the index is rebuilt without the model.
    ``answer`` is the normalised answer (``providers.client_formats.cached_answer``).
    Times are unix seconds; rows past ``expires_at`` are pruned.
"""

from __future__ import annotations

import sqlalchemy as sa

from storage.schema import metadata

cache_entries = sa.Table(
    "cache_entries",
    metadata,
    sa.Column("key", sa.LargeBinary(), primary_key=True),
    sa.Column("scope", sa.Text(), nullable=False),
    sa.Column("model", sa.Text(), nullable=False),
    sa.Column("fingerprint", sa.LargeBinary(), nullable=True),
    sa.Column("user_text", sa.Text(), nullable=True),
    sa.Column("embedding", sa.LargeBinary(), nullable=True),
    sa.Column("answer", sa.LargeBinary(), nullable=False),
    sa.Column("origin_request_id", sa.Text(), nullable=False),
    sa.Column("cost_usd", sa.Float(), nullable=True),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("expires_at", sa.Float(), nullable=False),
    sa.Index(None, "expires_at"),
)

__all__ = ["cache_entries"]
