"""A user message's content as Chat Completions writes it, which Cohere v2 reads too:
its text alone, or, when it holds an image, a list of ``text`` and ``image_url`` parts."""

from __future__ import annotations

from messages.chat import ImagePart, Message, TextPart
from messages.json import Json


def user_content(message: Message) -> Json:
    if not any(isinstance(part, ImagePart) for part in message.content):
        return message.text
    parts: list[Json] = []
    for part in message.content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        else:
            image: dict[str, Json] = {"url": part.url}
            if part.detail is not None:
                image["detail"] = part.detail
            parts.append({"type": "image_url", "image_url": image})
    return parts


__all__ = ["user_content"]
