"""``ChatRequest`` → a ``GenerateContentRequest`` body (as a JSON-ready dict).

- System messages, wherever they are, become ``systemInstruction.parts`` in order.
- Roles are ``user`` and ``model``; consecutive contents of one role are merged, so the
  results of parallel calls land in ONE user content, sorted into call order.
- Tools: namespaces flattened and custom tools emulated as in ``_tool_wire``; schemas
  converted by ``_schema``.
- Assistant tool calls → ``functionCall {name, args}`` parts (``id`` unless the gateway
  minted it, see ``_call_ids``), with the ``thoughtSignature`` whose
  ``Reasoning.id`` is that call's id; any other Gemini signature goes back on the next
  assistant text. Reasoning from other providers is dropped.
- Tool results → ``functionResponse {name, response, id?}``; the name is the wire name
  of the call it answers (found by call id, else ``Message.tool_name``); ``response`` is
  the output when that is a JSON object, else ``{"result": output}``.
- Images: a ``data:`` URI → ``inlineData``; any other URL → ``fileData {fileUri,
  mimeType}`` with the MIME type guessed from the extension (``image/jpeg`` when
  unknown). Gemini fetches only the URIs it accepts (its Files API, and public URLs where
  supported); others give a 400.
- Gemini 3 rejects a function-call step of the current turn whose first call has no
  signature (a conversation started on another provider). Such steps get the bypass
  value Google documents for foreign history, ``skip_thought_signature_validator``;
  models named ``gemini-1.*``/``gemini-2.*`` do not validate and get nothing.
- ``reasoning_effort`` → ``thinkingConfig.thinkingBudget``: none/minimal 512, low 1024,
  medium 8192, high/xhigh 24576 (every value is inside the 2.5 Pro, Flash and Flash-Lite
  ranges; Gemini 3 still takes budgets), capped at half of ``maxOutputTokens`` (never
  below 512); ``includeThoughts`` is on whenever thinking is configured, so thought
  summaries stream as reasoning. No effort and no summary wanted: no ``thinkingConfig``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from urllib.parse import unquote_to_bytes, urlsplit

import orjson

from messages.chat import (
    ChatRequest,
    ImagePart,
    Message,
    Reasoning,
    Role,
    TextPart,
    ToolCall,
    ToolChoiceMode,
    ToolKind,
    ToolSpec,
)
from providers._tool_wire import (
    ToolTable,
    custom_arguments,
    wire_description,
    wire_name,
    wire_schema,
)
from providers.gemini._call_ids import is_minted_call_id
from providers.gemini._schema import gemini_parameters

PROVIDER = "gemini"
SIGNATURE_BYPASS = "skip_thought_signature_validator"
THINKING_BUDGETS = {
    "none": 512,
    "minimal": 512,
    "low": 1024,
    "medium": 8192,
    "high": 24576,
    "xhigh": 24576,
}
_MIN_THINKING_BUDGET = 512
_UNVALIDATED_MODELS = re.compile(r"(models/)?gemini-[12]\.")
_IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "heic": "image/heic",
    "heif": "image/heif",
}
_MODE = {
    ToolChoiceMode.AUTO: "AUTO",
    ToolChoiceMode.NONE: "NONE",
    ToolChoiceMode.REQUIRED: "ANY",
    ToolChoiceMode.NAMED: "ANY",
}

Part = dict[str, object]


def build_body(request: ChatRequest, model: str) -> dict[str, object]:
    body: dict[str, object] = {"contents": _contents(request.messages, model)}
    system = [{"text": m.text} for m in request.messages if m.role is Role.SYSTEM and m.text]
    if system:
        body["systemInstruction"] = {"parts": system}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t) for t in request.tools]}]
        tool_config = _tool_config(request)
        if tool_config is not None:
            body["toolConfig"] = tool_config
    generation = _generation_config(request)
    if generation:
        body["generationConfig"] = generation
    return body


# ---- contents -------------------------------------------------------------------------


class _History:
    """What encoding one message needs from the others: call names and signatures.

    A signature whose ``Reasoning.id`` is the id of a call in the conversation belongs
    to that call, wherever the client kept it; any other signature (``id`` None, or the
    id of a client-side reasoning item) belongs to the next assistant text.
    """

    __slots__ = ("call_ids", "call_names", "call_signatures", "loose_signature")

    def __init__(self, messages: Sequence[Message]) -> None:
        assistant = [m for m in messages if m.role is Role.ASSISTANT]
        self.call_ids = frozenset(call.id for m in assistant for call in m.tool_calls)
        self.call_names: dict[str, str] = {}
        self.call_signatures = {
            r.id: r.signature
            for m in assistant
            for r in _own_signed(m)
            if r.id is not None and r.id in self.call_ids
        }
        self.loose_signature: str | None = None


def _own_signed(message: Message) -> list[Reasoning]:
    return [r for r in message.reasoning if r.provider == PROVIDER and r.signature]


def _contents(messages: Sequence[Message], model: str) -> list[dict[str, object]]:
    history = _History(messages)
    contents: list[tuple[str, list[Part]]] = []
    for message in _results_in_call_order(messages):
        if message.role is Role.SYSTEM:
            continue
        if message.role is Role.ASSISTANT:
            role, parts = "model", _model_parts(message, history)
        else:
            history.loose_signature = None
            if message.role is Role.TOOL:
                role, parts = "user", _result_parts(message, history.call_names)
            else:
                role, parts = "user", _user_parts(message.content)
        if not parts:
            continue
        if contents and contents[-1][0] == role:
            contents[-1][1].extend(parts)
        else:
            contents.append((role, parts))
    if not _UNVALIDATED_MODELS.match(model):
        _sign_current_turn(contents)
    return [{"role": role, "parts": parts} for role, parts in contents]


def _results_in_call_order(messages: Sequence[Message]) -> list[Message]:
    """Each run of tool results sorted by the position of its call in the last assistant turn."""
    ordered: list[Message] = []
    position: dict[str, int] = {}
    run: list[Message] = []
    for message in (*messages, None):
        if message is not None and message.role is Role.TOOL:
            run.append(message)
            continue
        ordered.extend(sorted(run, key=lambda m: position.get(m.tool_call_id or "", len(position))))
        run = []
        if message is not None:
            ordered.append(message)
            if message.role is Role.ASSISTANT and message.tool_calls:
                position = {call.id: index for index, call in enumerate(message.tool_calls)}
    return ordered


def _user_parts(content: Iterable[TextPart | ImagePart]) -> list[Part]:
    parts: list[Part] = []
    for part in content:
        if isinstance(part, ImagePart):
            parts.append(image_part(part.url))
        elif part.text:
            parts.append({"text": part.text})
    return parts


def _model_parts(message: Message, history: _History) -> list[Part]:
    loose = [r.signature for r in _own_signed(message) if r.id not in history.call_ids]
    if loose:
        history.loose_signature = loose[-1]
    parts: list[Part] = [
        {"text": p.text} for p in message.content if isinstance(p, TextPart) and p.text
    ]
    if parts and history.loose_signature:
        parts[-1]["thoughtSignature"] = history.loose_signature
        history.loose_signature = None
    for call in message.tool_calls:
        name = wire_name(call.name, call.namespace)
        history.call_names[call.id] = name
        function_call: dict[str, object] = {"name": name, "args": _call_args(call)}
        if not is_minted_call_id(call.id):
            function_call["id"] = call.id
        part: Part = {"functionCall": function_call}
        signature = history.call_signatures.get(call.id)
        if signature:
            part["thoughtSignature"] = signature
        parts.append(part)
    return parts


def _call_args(call: ToolCall) -> object:
    if call.kind is ToolKind.CUSTOM:
        return dict(custom_arguments(call.arguments))
    if not call.arguments.strip():
        return {}
    try:
        parsed = orjson.loads(call.arguments)
    except orjson.JSONDecodeError:
        return {"arguments": call.arguments}
    return parsed if isinstance(parsed, dict) else {"arguments": parsed}


def _result_parts(message: Message, call_names: dict[str, str]) -> list[Part]:
    call_id = message.tool_call_id
    name = call_names.get(call_id or "") or message.tool_name or "tool"
    response: dict[str, object] = {"name": name, "response": _response_object(message.text)}
    if call_id and not is_minted_call_id(call_id):
        response["id"] = call_id
    images = [image_part(p.url) for p in message.content if isinstance(p, ImagePart)]
    return [{"functionResponse": response}, *images]


def _response_object(output: str) -> object:
    if output.lstrip().startswith("{"):
        try:
            parsed = orjson.loads(output)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return {"result": output}


def image_part(url: str) -> Part:
    if url.startswith("data:"):
        header, _, payload = url[5:].partition(",")
        mime, _, encoding = header.partition(";")
        data = (
            payload
            if encoding == "base64"
            else base64.b64encode(unquote_to_bytes(payload)).decode()
        )
        return {"inlineData": {"mimeType": mime or "application/octet-stream", "data": data}}
    extension = urlsplit(url).path.rpartition(".")[2].lower()
    return {"fileData": {"fileUri": url, "mimeType": _IMAGE_TYPES.get(extension, "image/jpeg")}}


def _sign_current_turn(contents: list[tuple[str, list[Part]]]) -> None:
    """Give each function-call step since the last user text a signature on its first call."""
    start = 0
    for index, (role, parts) in enumerate(contents):
        if role == "user" and any("text" in part for part in parts):
            start = index
    for role, parts in contents[start:]:
        calls = [part for part in parts if "functionCall" in part]
        if role == "model" and calls and "thoughtSignature" not in calls[0]:
            calls[0]["thoughtSignature"] = SIGNATURE_BYPASS


# ---- tools and configuration ----------------------------------------------------------


def _declaration(tool: ToolSpec) -> dict[str, object]:
    """A function declaration; a custom tool is the shared one-string emulation."""
    declaration: dict[str, object] = {
        "name": wire_name(tool.name, tool.namespace),
        "description": wire_description(tool),
    }
    parameters = gemini_parameters(wire_schema(tool))
    if parameters is not None:
        declaration["parameters"] = parameters
    return declaration


def _tool_config(request: ChatRequest) -> dict[str, object] | None:
    choice = request.tool_choice
    if choice is None:
        return None
    config: dict[str, object] = {"mode": _MODE[choice.mode]}
    if choice.mode is ToolChoiceMode.NAMED and choice.name:
        config["allowedFunctionNames"] = [ToolTable(request.tools).wire_name_for(choice.name)]
    return {"functionCallingConfig": config}


def _generation_config(request: ChatRequest) -> dict[str, object]:
    config: dict[str, object] = {}
    if request.max_output_tokens is not None:
        config["maxOutputTokens"] = request.max_output_tokens
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.stop:
        config["stopSequences"] = list(request.stop)
    thinking = _thinking_config(request)
    if thinking:
        config["thinkingConfig"] = thinking
    return config


def _thinking_config(request: ChatRequest) -> dict[str, object]:
    budget = THINKING_BUDGETS.get(request.reasoning_effort or "")
    if budget is None:
        wants_summary = request.reasoning_summary not in (None, "none")
        return {"includeThoughts": True} if wants_summary else {}
    limit = request.max_output_tokens
    if limit is not None and budget > limit // 2:
        budget = max(_MIN_THINKING_BUDGET, limit // 2)
    return {"thinkingBudget": budget, "includeThoughts": True}


__all__ = ["PROVIDER", "SIGNATURE_BYPASS", "THINKING_BUDGETS", "build_body", "image_part"]
