"""The client side: what clients speak (OpenAI Responses and Chat Completions). Parse and
check a request (``inbound``), decode it into the conversation IR (``*_format``), encode
replies and streams back (``*_encoder``), and fail a stream in the client's own shape."""
