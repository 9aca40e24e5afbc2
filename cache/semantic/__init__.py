"""The semantic layer: embedder, vector index, and the guarded hit decision (see cache/)."""
