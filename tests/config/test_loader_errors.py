"""Every way a config is rejected: the right line, a message naming the problem, no secret.

Each case marks its offending line with ``# <-``; the error must point exactly there.
"""

from __future__ import annotations

import textwrap
import traceback
from typing import TYPE_CHECKING

import pytest

from config import ConfigError, load_config, parse_config

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "sk-SECRET-value-7f3a"
OTHER_SECRET = "sy-SECRET-value-91bc"
ENV = {"OPENAI_KEY": SECRET, "VK": OTHER_SECRET, "VK_COPY": OTHER_SECRET, "SPACED": "a b"}

ACCOUNTS = """\
accounts:
  - id: "a"
    providers:
      - id: "p"
        type: "openai"
        api_key: "${OPENAI_KEY}"
        model: "gpt-5"
"""
KEYS = """\
virtual_keys:
  - id: "vk"
    key: "${VK}"
    account: "a"
    team: "t"
"""


def provider(*lines: str) -> str:
    """A config whose one provider is made of ``lines`` (indented for the list item)."""
    body = "\n".join(f"        {line}" for line in lines[1:])
    return f'accounts:\n  - id: "a"\n    providers:\n      - {lines[0]}\n{body}\n'


CASES: dict[str, tuple[str, str]] = {
    "unknown top-level key": (
        ACCOUNTS + "servr:  # <-\n  port: 1\n",
        "unknown key 'servr'",
    ),
    "unknown provider key, with a hint": (
        provider('id: "p"', 'type: "openai"', 'api_key: "k"', 'model: "m"', "wieght: 2  # <-"),
        "did you mean 'weight'",
    ),
    "weight of the wrong type": (
        provider('id: "p"', 'type: "openai"', 'api_key: "k"', 'model: "m"', 'weight: "sixty" # <-'),
        "weight: expected a number, got a string",
    ),
    "zero weight": (
        provider('id: "p"', 'type: "openai"', 'api_key: "k"', 'model: "m"', "weight: 0  # <-"),
        "weight: must be greater than 0",
    ),
    "negative weight": (
        provider('id: "p"', 'type: "openai"', 'api_key: "k"', 'model: "m"', "weight: -3  # <-"),
        "weight: must be greater than 0",
    ),
    "a list where a mapping is expected": (
        ACCOUNTS + "server: [1, 2]  # <-\n",
        "server: expected a mapping, got a list",
    ),
    "a mapping where a list is expected": (
        'accounts: {id: "a"}  # <-\n',
        "accounts: expected a list, got a mapping",
    ),
    "missing required key": (
        provider('id: "p"  # <-', 'type: "openai"', 'api_key: "k"'),
        "missing required key 'model'",
    ),
    "required key without a value": (
        provider('id: "p"', 'type: "openai"', 'api_key: "k"', "model:  # <-"),
        "model: has no value",
    ),
    "duplicate account id": (
        ACCOUNTS + '  - id: "a"  # <-\n    providers: [{id: "q", type: "openai", api_key: "k",'
        ' model: "m"}]\n',
        "duplicate account id 'a' (first used on line 2)",
    ),
    "duplicate provider id in an account": (
        ACCOUNTS + '      - {id: "p", type: "openai", api_key: "k2", model: "m"}  # <-\n',
        "duplicate provider id 'p'",
    ),
    "duplicate virtual key id": (
        ACCOUNTS + KEYS + '  - id: "vk"  # <-\n    key: "other"\n    account: "a"\n',
        "duplicate virtual key id 'vk'",
    ),
    "duplicate virtual key secret": (
        ACCOUNTS + KEYS + '  - id: "vk2"\n    key: "${VK_COPY}"  # <-\n    account: "a"\n',
        "virtual key 'vk2' has the same secret as virtual key 'vk' (line 10)",
    ),
    "unknown provider type": (
        provider('id: "p"', 'type: "opneai"  # <-', 'api_key: "k"', 'model: "m"'),
        "unknown provider type 'opneai'",
    ),
    "virtual key naming an unknown account": (
        ACCOUNTS
        + 'virtual_keys:\n  - id: "vk"\n    key: "s-0123456789abcdef"\n    account: "b"  # <-\n',
        "no account has id 'b'",
    ),
    "virtual key shorter than 16 characters": (
        ACCOUNTS + 'virtual_keys:\n  - id: "vk"\n    key: "sy-short"  # <-\n    account: "a"\n',
        "virtual key 'vk' is 8 characters long; use at least 16 random characters",
    ),
    "empty accounts list": (
        "accounts: []  # <-\n",
        "at least one account",
    ),
    "missing accounts": (
        "server:  # <-\n  port: 1\n",
        "missing required key 'accounts'",
    ),
    "account without providers": (
        'accounts:\n  - id: "a"\n    providers: []  # <-\n',
        "account 'a' has no providers",
    ),
    "non-http base_url": (
        provider(
            'id: "p"', 'type: "openai"', 'api_key: "k"', 'model: "m"', 'base_url: "ftp://x/v1" # <-'
        ),
        "base_url: must be an http:// or https:// URL",
    ),
    "base_url without a host": (
        provider(
            'id: "p"',
            'type: "openai"',
            'api_key: "k"',
            'model: "m"',
            'base_url: "https:///v1" # <-',
        ),
        "base_url: must be an http:// or https:// URL",
    ),
    "openai-compatible without base_url": (
        provider('id: "p"  # <-', 'type: "openai-compatible"', 'api_key: "k"', 'model: "m"'),
        "provider type 'openai-compatible' needs a 'base_url'",
    ),
    "both api_key and api_keys": (
        provider(
            'id: "p"  # <-', 'type: "openai"', 'api_key: "k"', 'api_keys: ["j"]', 'model: "m"'
        ),
        "exactly one of 'api_key' and 'api_keys'",
    ),
    "neither api_key nor api_keys": (
        provider('id: "p"  # <-', 'type: "openai"', 'model: "m"'),
        "exactly one of 'api_key' and 'api_keys'",
    ),
    "empty api_keys": (
        provider('id: "p"', 'type: "openai"', "api_keys: []  # <-", 'model: "m"'),
        "api_keys: the list is empty",
    ),
    "repeated key in api_keys": (
        provider(
            'id: "p"',
            'type: "openai"',
            "api_keys:",
            '  - "${OPENAI_KEY}"',
            '  - "${OPENAI_KEY}"  # <-',
            'model: "m"',
        ),
        "api_keys[1]: repeats",
    ),
    "secret with whitespace": (
        provider('id: "p"', 'type: "openai"', 'api_key: "${SPACED}"  # <-', 'model: "m"'),
        "api_key: contains whitespace",
    ),
    "model that is only the prefix": (
        provider('id: "p"', 'type: "openai"', 'api_key: "k"', 'model: "openai/"  # <-'),
        "names no model after 'openai/'",
    ),
    "missing environment variable": (
        provider('id: "p"', 'type: "openai"', 'api_key: "${NOT_SET_ANYWHERE}"  # <-', 'model: "m"'),
        "environment variable NOT_SET_ANYWHERE is not set",
    ),
    "malformed environment reference": (
        provider('id: "p"', 'type: "openai"', 'api_key: "${1BAD}"  # <-', 'model: "m"'),
        "malformed environment reference",
    ),
    "unclosed environment reference": (
        provider('id: "p"', 'type: "openai"', 'api_key: "${OPENAI_KEY"  # <-', 'model: "m"'),
        "unclosed '${'",
    ),
    "port given as a string": (
        ACCOUNTS + 'server:\n  port: "8080"  # <-\n',
        "server.port: expected an integer, got a string",
    ),
    "port out of range": (
        ACCOUNTS + "server:\n  port: 70000  # <-\n",
        "server.port: must be at most 65535",
    ),
    "client write timeout given as a string": (
        ACCOUNTS + 'server:\n  write_timeout_s: "30s"  # <-\n',
        "server.write_timeout_s: expected a number, got a string",
    ),
    "client body timeout of zero": (
        ACCOUNTS + "server:\n  body_timeout_s: 0  # <-\n",
        "server.body_timeout_s: must be greater than 0",
    ),
    "client header timeout absurdly long": (
        ACCOUNTS + "server:\n  header_timeout_s: 1.0e+12  # <-\n",
        "server.header_timeout_s: at most 3600 seconds",
    ),
    "client header timeout infinite": (
        ACCOUNTS + "server:\n  header_timeout_s: .inf  # <-\n",
        "server.header_timeout_s: must be a finite number",
    ),
    "body buffer cap of zero": (
        ACCOUNTS + "server:\n  max_buffered_body_bytes: 0  # <-\n",
        "server.max_buffered_body_bytes: must be at least 1",
    ),
    "body buffer cap as a float": (
        ACCOUNTS + "server:\n  max_buffered_body_bytes: 1.5  # <-\n",
        "server.max_buffered_body_bytes: expected an integer",
    ),
    "number from the environment that is not one": (
        ACCOUNTS + 'server:\n  port: "${OPENAI_KEY}"  # <-\n',
        "server.port: expected an integer after filling in environment variables",
    ),
    "negative timeout in defaults": (
        "defaults:\n  timeouts: {idle_s: -1}  # <-\n" + ACCOUNTS,
        "defaults.timeouts.idle_s: must be greater than 0",
    ),
    "resend_unanswered not a boolean": (
        'defaults:\n  retry:\n    resend_unanswered: "no"  # <-\n' + ACCOUNTS,
        "defaults.retry.resend_unanswered: expected true or false, got a string",
    ),
    "resend_unanswered a number": (
        "defaults:\n  retry:\n    resend_unanswered: 1  # <-\n" + ACCOUNTS,
        "expected true or false, got an integer",
    ),
    "unknown retry key": (
        "defaults:\n  retry:\n    max_retry: 3  # <-\n" + ACCOUNTS,
        "unknown key 'max_retry'",
    ),
    "backoff cap below its base": (
        provider(
            'id: "p"',
            'type: "openai"',
            'api_key: "k"',
            'model: "m"',
            "retry:",
            "  backoff_base_s: 10  # <-",
        ),
        "backoff_max_s must not be less than backoff_base_s",
    ),
    "duplicate key in a mapping": (
        ACCOUNTS + "server:\n  port: 1\n  port: 2  # <-\n",
        "duplicate key 'port'",
    ),
    "non-string key": (
        ACCOUNTS + "server:\n  1: 2  # <-\n",
        "keys must be strings, got an integer",
    ),
    "empty allowed_models": (
        ACCOUNTS + KEYS + "    allowed_models: []  # <-\n",
        "allowed_models: the list is empty",
    ),
    "budget with an unknown level": (
        ACCOUNTS + KEYS + 'budgets:\n  - level: "org"  # <-\n    id: "x"\n    limit: 1\n',
        "unknown level 'org'",
    ),
    "budget with an unknown period": (
        ACCOUNTS + KEYS + 'budgets:\n  - level: "team"\n    id: "t"\n    limit: 1\n'
        '    period: "fortnightly"  # <-\n',
        "unknown period 'fortnightly'",
    ),
    "budget with a limit but no period": (
        ACCOUNTS + KEYS + 'budgets:\n  - level: "team"  # <-\n    id: "t"\n    limit: 1\n',
        "missing required key 'period'",
    ),
    "budget naming an unknown virtual key": (
        ACCOUNTS + KEYS + 'budgets:\n  - level: "virtual_key"\n    id: "nope"  # <-\n'
        '    limit: 1\n    period: "daily"\n',
        "no virtual key has id 'nope'",
    ),
    "budget without any limit": (
        ACCOUNTS + KEYS + 'budgets:\n  - level: "provider"  # <-\n    id: "p"\n',
        "give a 'limit' (USD) or a rate limit",
    ),
    "two budgets for the same thing and period": (
        ACCOUNTS + KEYS + "budgets:\n"
        '  - {level: "team", id: "t", limit: 1, period: "daily"}\n'
        '  - {level: "team", id: "t", limit: 2, period: "daily"}  # <-\n',
        "a second 'daily' budget for team 't' (the first is on line 14)",
    ),
    "invalid YAML": (
        ACCOUNTS + "server:\n  port: 1: 2  # <-\n",
        "invalid YAML: mapping values are not allowed here",
    ),
    "unclosed flow list": (
        ACCOUNTS + "virtual_keys: [\nbudgets: []  # <-",  # no final newline: the end is here
        "invalid YAML: while parsing a flow sequence (line 8)",
    ),
    "two documents": (
        ACCOUNTS + "---  # <-\naccounts: []\n",
        "expected a single document",
    ),
    "root that is a list": (
        "- accounts  # <-\n",
        "expected a mapping, got a list",
    ),
    "control character": (
        ACCOUNTS + 'server:\n  host: "a\x07b"  # <-\n',
        "invalid YAML: special characters are not allowed",
    ),
}


def expected_line(text: str) -> int:
    (line,) = [n for n, row in enumerate(text.splitlines(), start=1) if "# <-" in row]
    return line


@pytest.mark.parametrize(("text", "fragment"), list(CASES.values()), ids=list(CASES))
def test_rejection_points_at_the_offending_line(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="gw.yaml", environ=ENV)

    error = caught.value
    assert fragment in error.problem
    assert error.line == expected_line(text), error.problem
    assert (error.source, str(error)) == ("gw.yaml", f"gw.yaml:{error.line}: {error.problem}")


@pytest.mark.parametrize(("text", "fragment"), list(CASES.values()), ids=list(CASES))
def test_no_secret_in_any_error(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="gw.yaml", environ=ENV)

    everything = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert SECRET not in everything
    assert OTHER_SECRET not in everything


def test_inline_secret_on_a_broken_yaml_line_is_not_echoed() -> None:
    text = f'accounts:\n  - id: "a"\n    key: "{SECRET}": broken\n'

    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="gw.yaml", environ={})

    assert caught.value.line == 3
    assert SECRET not in "".join(traceback.format_exception(caught.value))


def test_empty_document_is_line_one() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("# nothing here\n", source="gw.yaml", environ={})

    assert (caught.value.line, caught.value.problem) == (
        1,
        "the config is empty; it needs at least 'accounts'",
    )


def test_unreadable_file_has_line_zero(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"

    with pytest.raises(ConfigError) as caught:
        load_config(missing, environ={})

    assert (caught.value.source, caught.value.line) == (str(missing), 0)
    assert "cannot read the config file" in caught.value.problem


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b'accounts:\n  - id: "caf\xe9"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})

    assert (caught.value.line, caught.value.problem) == (2, "the file is not UTF-8 text")


def test_cases_parse_once_fixed() -> None:
    """The fixtures are sound: the shared fragments load on their own."""
    loaded = parse_config(ACCOUNTS + KEYS, source="gw.yaml", environ=ENV)

    assert textwrap.dedent(ACCOUNTS) == ACCOUNTS
    assert [key.id for key in loaded.virtual_keys] == ["vk"]
