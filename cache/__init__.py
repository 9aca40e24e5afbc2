"""The response cache's pure parts: the exact key (``cache.exact_key``) and the entry
table with its TTL and eviction (``cache.entries``). The actor that owns them is
``actors.cache``. Pure: no trio, no sockets, no SQL."""
