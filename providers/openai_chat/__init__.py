"""The adapter for the Chat Completions family (OpenAI, Mistral, Groq, Cerebras,
Perplexity, OpenAI-compatible servers): ``adapter`` is its public face (``ChatQuirks``,
``OpenAIChatAdapter``); the private modules beside it build requests and read replies."""
