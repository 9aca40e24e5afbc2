"""OpenAI Responses: a ``Reply`` as the SSE stream and the JSON body the API sends.

Stream grammar (as in ``recordings/openai-responses/*.chunks.jsonl``):
``response.created`` → ``response.in_progress`` → for each item ``response.output_item.added``
→ (message: ``content_part.added`` → ``output_text.delta``* → ``output_text.done`` →
``content_part.done``) | (function_call: ``function_call_arguments.delta``{2+} → ``.done``)
| (custom_tool_call: ``custom_tool_call_input.delta``{2+} → ``.done``) | (reasoning:
``reasoning_summary_part.added`` → ``reasoning_summary_text.delta``* → ``.done`` →
``reasoning_summary_part.done``) → ``response.output_item.done`` … → ``response.completed``
| ``response.incomplete`` (``finish="length"``, reason ``max_output_tokens``) | ``error`` +
``response.failed``. Each event is ``event: <type>`` + ``data: {"type", "sequence_number", …}``;
there is no ``[DONE]``. The ``error`` event carries ``code``/``message``/``param`` at the top
level (the documented shape) and also a nested ``error`` object (the shape recorded live).
Ids: ``resp_…``, ``msg_…``, ``fc_…``, ``ctc_…``, ``rs_…``, and ``call_…`` call ids.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from fakes.script import CustomToolCall, FakeUsage, FunctionCall, Item, Reasoning, Reply, Text
from fakes.wire import Answer, WireContext, cut_last_item, split_fragments, split_text, sse_event

Event = tuple[str, dict[str, object]]


def items_to_send(reply: Reply) -> tuple[Item, ...]:
    """The reply's items, the last one cut half-way when ``finish="length"``."""
    return cut_last_item(reply.items) if reply.finish == "length" else reply.items


def call_id_of(item: FunctionCall | CustomToolCall, ctx: WireContext, index: int) -> str:
    """The scripted call id, or one minted from the context."""
    return item.call_id or ctx.mint_id("call", index)


def responses_usage(usage: FakeUsage) -> dict[str, object]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def _response_object(
    ctx: WireContext, status: str, output: list[dict[str, object]], **extra: object
) -> dict[str, object]:
    request = ctx.request
    response: dict[str, object] = {
        "id": f"resp_{ctx.token}",
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "max_tool_calls": request.get("max_tool_calls"),
        "model": ctx.model,
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": request.get("previous_response_id"),
        "prompt_cache_key": request.get("prompt_cache_key"),
        "prompt_cache_retention": None,
        "reasoning": _merged({"effort": None, "summary": None}, request.get("reasoning")),
        "safety_identifier": None,
        "service_tier": "default",
        "store": request.get("store", True),
        "temperature": request.get("temperature", 1.0),
        "text": _merged({"format": {"type": "text"}, "verbosity": "medium"}, request.get("text")),
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools", []),
        "top_logprobs": 0,
        "top_p": request.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": request.get("metadata", {}),
    }
    response.update(extra)
    return response


def _merged(defaults: dict[str, object], given: object) -> dict[str, object]:
    """``defaults`` overridden by the request's object of the same name."""
    return {**defaults, **given} if isinstance(given, dict) else defaults


def _finished_response(
    ctx: WireContext, reply: Reply, output: list[dict[str, object]]
) -> dict[str, object]:
    usage = responses_usage(ctx.usage)
    if reply.finish == "length":
        reason = {"reason": "max_output_tokens"}
        return _response_object(ctx, "incomplete", output, incomplete_details=reason, usage=usage)
    return _response_object(ctx, "completed", output, usage=usage)


def _output_item(item: Item, ctx: WireContext, index: int, status: str) -> dict[str, object]:
    """An output item as it stands when done (``status`` completed or incomplete)."""
    match item:
        case Text(text=text):
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
            item_id = ctx.mint_id("msg", index)
            return {
                "id": item_id,
                "type": "message",
                "status": status,
                "content": [part],
                "role": "assistant",
            }
        case FunctionCall(name=name, arguments=arguments):
            call_id = call_id_of(item, ctx, index)
            return {
                "id": ctx.mint_id("fc", index),
                "type": "function_call",
                "status": status,
                "arguments": arguments,
                "call_id": call_id,
                "name": name,
            }
        case CustomToolCall(name=name, input=freeform):
            call_id = call_id_of(item, ctx, index)
            return {
                "id": ctx.mint_id("ctc", index),
                "type": "custom_tool_call",
                "status": status,
                "call_id": call_id,
                "input": freeform,
                "name": name,
            }
        case Reasoning(summary=summary, encrypted_content=encrypted):
            parts = [{"type": "summary_text", "text": summary}] if summary else []
            reasoning: dict[str, object] = {
                "id": ctx.mint_id("rs", index),
                "type": "reasoning",
                "summary": parts,
            }
            if encrypted is not None:
                reasoning["encrypted_content"] = encrypted
            return reasoning


def _done_items(reply: Reply, ctx: WireContext) -> list[tuple[Item, dict[str, object]]]:
    """Each item to send with its final JSON form; a length-cut last item is incomplete."""
    items = items_to_send(reply)
    last = len(items) - 1 if reply.finish == "length" else -1
    return [
        (item, _output_item(item, ctx, index, "incomplete" if index == last else "completed"))
        for index, item in enumerate(items)
    ]


def _in_progress(done: dict[str, object]) -> dict[str, object]:
    """The ``output_item.added`` form of a done item: empty content, status in_progress."""
    match done["type"]:
        case "message":
            return {**done, "status": "in_progress", "content": []}
        case "function_call":
            return {**done, "status": "in_progress", "arguments": ""}
        case "custom_tool_call":
            return {**done, "status": "in_progress", "input": ""}
        case _:
            return {**done, "summary": []}


def _item_body_events(item: Item, done: dict[str, object], index: int) -> Iterator[Event]:
    """The events between ``output_item.added`` and ``output_item.done``."""
    where: dict[str, object] = {"item_id": done["id"], "output_index": index}
    match item:
        case Text(text=text):
            part: dict[str, object] = {
                "type": "output_text",
                "annotations": [],
                "logprobs": [],
                "text": "",
            }
            at = {**where, "content_index": 0}
            yield "response.content_part.added", {**at, "part": part}
            for piece in split_text(text):
                yield "response.output_text.delta", {**at, "delta": piece, "logprobs": []}
            yield "response.output_text.done", {**at, "text": text, "logprobs": []}
            yield "response.content_part.done", {**at, "part": {**part, "text": text}}
        case FunctionCall(arguments=arguments):
            for piece in split_fragments(arguments):
                yield "response.function_call_arguments.delta", {**where, "delta": piece}
            yield "response.function_call_arguments.done", {**where, "arguments": arguments}
        case CustomToolCall(input=freeform):
            for piece in split_fragments(freeform):
                yield "response.custom_tool_call_input.delta", {**where, "delta": piece}
            yield "response.custom_tool_call_input.done", {**where, "input": freeform}
        case Reasoning(summary=summary) if summary:
            at = {**where, "summary_index": 0}
            yield (
                "response.reasoning_summary_part.added",
                {**at, "part": {"type": "summary_text", "text": ""}},
            )
            for piece in split_text(summary):
                yield "response.reasoning_summary_text.delta", {**at, "delta": piece}
            yield "response.reasoning_summary_text.done", {**at, "text": summary}
            yield (
                "response.reasoning_summary_part.done",
                {**at, "part": {"type": "summary_text", "text": summary}},
            )
        case Reasoning():
            return


def _responses_events(
    reply: Reply, ctx: WireContext, failure: tuple[str, str] | None
) -> Iterator[Event]:
    yield "response.created", {"response": _response_object(ctx, "in_progress", [])}
    yield "response.in_progress", {"response": _response_object(ctx, "in_progress", [])}
    output: list[dict[str, object]] = []
    for index, (item, done) in enumerate(_done_items(reply, ctx)):
        yield "response.output_item.added", {"output_index": index, "item": _in_progress(done)}
        yield from _item_body_events(item, done, index)
        yield "response.output_item.done", {"output_index": index, "item": done}
        output.append(done)
    if failure is None:
        finished = _finished_response(ctx, reply, output)
        yield f"response.{finished['status']}", {"response": finished}
        return
    code, message = failure
    nested = {"type": code, "code": code, "message": message, "param": None}
    yield "error", {"code": code, "message": message, "param": None, "error": nested}
    error = {"code": code, "message": message}
    yield "response.failed", {"response": _response_object(ctx, "failed", output, error=error)}


def responses_stream(
    reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None = None
) -> list[bytes]:
    """The Responses SSE stream of ``reply``, one ``bytes`` per event."""
    return [
        sse_event(kind, {"type": kind, "sequence_number": seq, **fields})
        for seq, (kind, fields) in enumerate(_responses_events(reply, ctx, failure))
    ]


def responses_answer(reply: Reply, ctx: WireContext) -> Answer:
    """The non-streamed Responses body of ``reply``."""
    output = [done for _, done in _done_items(reply, ctx)]
    return Answer(status=200, body=orjson.dumps(_finished_response(ctx, reply, output)))
