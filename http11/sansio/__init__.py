"""The HTTP/1.1 framing the server and the client share, sans-I/O: bytes in, heads and
body pieces out (``head``: request and response heads; ``body``: lengths and chunks)."""
