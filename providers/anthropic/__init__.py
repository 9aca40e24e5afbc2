"""The adapter for Anthropic Messages: ``adapter`` is its public face (``ADAPTER``), the
private modules beside it build requests, read replies and map errors."""
