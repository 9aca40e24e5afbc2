"""One request's exchange with a provider, as the provider worker drives it: the
``Exchange`` protocol, ``open_exchange`` (which exchange serves a request), the translating
exchange through the IR, and the byte-for-byte passthroughs."""
