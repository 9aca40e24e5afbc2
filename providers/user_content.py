"""System and user messages as Chat Completions writes them, which Cohere v2 reads too: a
user message's content is its text alone, or, when it holds an image, a list of ``text``
and ``image_url`` parts."""

from __future__ import annotations

from messages.chat import ImagePart, Message, Role, TextPart
from messages.json import Json


def system_or_user(message: Message) -> dict[str, Json] | None:
    """A system or user message on the wire; ``None`` when it says nothing."""
    if message.role is Role.SYSTEM:
        return {"role": "system", "content": message.text} if message.text.strip() else None
    content = user_content(message)
    return {"role": "user", "content": content} if content else None


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


__all__ = ["system_or_user", "user_content"]
