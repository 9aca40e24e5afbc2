"""The guard: two questions close in embedding space must also ask for the same thing.

A sentence embedding hardly moves when one salient word changes or two swap places
("convert a string to an integer" / "an integer to a string": 0.996). So after the
similarity test, both texts are read into:

* **literals** — numbers, code and quoted text, in order ("5 digits" is not "8 digits");
* **words** — every word that is not grammar or question filler, synonyms folded
  (:mod:`cache.semantic.lexicon`): operations and their opposites, languages and tools,
  order and position words, negations, and the open vocabulary — the sets must be equal;
* **order and direction** — ``to``/``into``/``from``/``then`` cut a text into steps, and
  no two words may stand in one order in one text and the other order in the other:
  "merge main into feature" is not "merge feature into main", and what follows ``from``
  is the source in both or in neither ("to UTC" is not "from UTC"); no two words trade
  places around a preposition ("replace tabs with spaces"); and apart from one word
  that moved ("a local branch" / "a branch locally"), the words keep their order ("make
  a private repository public" is not "make a public repository private"). Words of
  context phrases ("in Python", "with pandas") may move freely.

A question about a difference ("X vs Y") is symmetric: there order and direction do not
count. The guard is deliberately strict (a miss costs one provider call; a wrong hit
serves someone else's answer), and pure: tens of microseconds a candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cache.semantic.lexicon import (
    CLAUSE_BREAKS,
    CONTEXT_PREPOSITIONS,
    NEGATIONS,
    NUMBER_WORDS,
    ORDER_BREAKS,
    PHRASES,
    PREPOSITIONS,
    ROLES,
    SOFT,
    SYMMETRIC_MARKERS,
    SYNONYMS,
    TECH_NAMES,
)

_PIECE = re.compile(r"`[^`]*`|(?<!\w)\"[^\"]+\"|(?<!\w)'[^']+'(?!\w)|\S+")
_NUMBER = re.compile(r"^[-+]?\d[\d,]*(?:\.\d+)*[a-z%]*$")
_CODEISH = re.compile(r"[_./\\()\[\]{}=<>$@:#+*|]|^-|[a-z][A-Z]|\w-\d")
_PLAIN_WORDS = re.compile(r"^[A-Za-z][A-Za-z' ]*$")
_EDGE_PUNCT = "?!.,;:()[]{}\"'"
_BREAK_PUNCT = frozenset(",;:!?")
_PHRASE = re.compile(
    r"(?<!\w)(?:"
    + "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True))
    + r")(?!\w)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Reading:
    """What the guard compares of one text."""

    literals: tuple[str, ...]
    words: frozenset[str]
    steps: dict[str, int]
    sequence: tuple[str, ...]
    sources: frozenset[str]
    roles: dict[str, str]
    symmetric: bool


@dataclass(slots=True)
class _Reader:
    literals: list[str]
    words: list[str]
    steps: dict[str, int]
    sequence: list[str]
    sources: set[str]
    roles: dict[str, str]
    step: int = 0
    in_context: bool = False
    in_source: bool = False
    role: str = ""

    def keep(self, token: str) -> None:
        self.words.append(token)
        if not self.in_context and token not in self.steps:
            self.steps[token] = self.step
            self.sequence.append(token)
        if self.in_source:
            self.sources.add(token)
        self.roles.setdefault(token, self.role)

    def literal(self, token: str, *, code: bool = False) -> None:
        """A number or a piece of code: compared in order, and by its part ("with 0")."""
        self.literals.append(token)
        self.roles.setdefault("\x00" + token, self.role)
        if code:
            self.keep("\x00literal")

    def punctuation(self, raw: str) -> None:
        if raw and raw[-1] in _BREAK_PUNCT:
            self.in_context = self.in_source = False
            self.role = ""

    def word(self, word: str, *, canonical: bool = False) -> None:
        if word in PREPOSITIONS or word in ORDER_BREAKS or word in CLAUSE_BREAKS:
            self.role = ROLES.get(word, "")
        if word in ORDER_BREAKS:
            self.step += 1
            self.in_context, self.in_source = False, word == "from"
        elif word in PREPOSITIONS:
            self.in_context, self.in_source = word in CONTEXT_PREPOSITIONS, False
        elif word in CLAUSE_BREAKS:
            self.in_context = self.in_source = False
        elif word in NEGATIONS:
            self.keep("not")
        elif canonical:
            self.keep(word)
        elif word not in SOFT:
            stem = _stem(word)
            if stem not in SOFT:
                self.keep(stem)


def _stem(word: str) -> str:
    if word in SYNONYMS:
        return SYNONYMS[word]
    stem = word
    if len(word) > 4 and word.endswith("ies"):
        stem = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        stem = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        stem = word[:-1]
    elif len(word) > 7 and word.endswith("ly"):
        stem = word[:-2]
    elif (len(word) > 6 and word.endswith("ing")) or (len(word) > 5 and word.endswith("ed")):
        stem = word[: -3 if word.endswith("ing") else -2]
        if len(stem) > 3 and stem[-1] == stem[-2]:
            stem = stem[:-1]
    return SYNONYMS.get(stem, stem)


def _words_of(piece: str) -> list[str]:
    """One whitespace-separated piece as words (contractions and hyphens split)."""
    low = piece.lower().replace("\u2019", "'")
    if low.endswith("n't"):
        base = {"can't": "can", "won't": "will"}.get(low, low[:-3])
        return [base, "not"]
    if low.endswith(("'s", "'re", "'ve", "'ll", "'d", "'m")):
        low = low[: low.rindex("'")]
    return [part for part in low.split("-") if part]


def _read_piece(reader: _Reader, raw: str) -> None:
    if raw[0] in "`\"'" and len(raw) > 1 and raw[-1] == raw[0]:
        inner = raw[1:-1].strip()
        if raw[0] == "`" or not _PLAIN_WORDS.match(inner):
            reader.literal(inner, code=True)
            return
        for piece in inner.split():
            _read_piece(reader, piece)
        return
    piece = raw.strip(_EDGE_PUNCT)
    low = piece.lower()
    if not piece:
        pass
    elif low in TECH_NAMES:
        reader.word(TECH_NAMES[low], canonical=True)
    elif low in SYNONYMS or low in NUMBER_WORDS:
        token = NUMBER_WORDS.get(low)
        if token is None:
            reader.word(SYNONYMS[low], canonical=True)
        else:
            reader.literal(token)
    elif _NUMBER.match(low):
        reader.literal(low.replace(",", ""))
    elif _CODEISH.search(piece):
        reader.literal(piece, code=True)
    else:
        for word in _words_of(piece):
            reader.word(word)
    reader.punctuation(raw)


@lru_cache(maxsize=4096)
def read(text: str) -> Reading:
    """The guard's reading of one prepared text (cached: a query is read once for all its
    candidates, and a stored entry's text once while it is asked about; never mutate it)."""
    source = _PHRASE.sub(lambda match: PHRASES[match.group().lower()], text)
    reader = _Reader(literals=[], words=[], steps={}, sequence=[], sources=set(), roles={})
    for match in _PIECE.finditer(source):
        _read_piece(reader, match.group())
    return Reading(
        literals=tuple(reader.literals),
        words=frozenset(reader.words),
        steps=reader.steps,
        sequence=tuple(reader.sequence),
        sources=frozenset(reader.sources),
        roles=reader.roles,
        symmetric=bool(SYMMETRIC_MARKERS & set(reader.words)),
    )


def _steps_agree(first: dict[str, int], second: dict[str, int]) -> bool:
    """No two shared words stand in one order across steps in one text and in the other
    order in the other ("a string to an integer" / "an integer to a string"). O(n log n):
    grouped by their step in ``first``, each group's steps in ``second`` must not fall
    below any earlier group's."""
    pairs = sorted((step, second[word]) for word, step in first.items() if word in second)
    earlier_max, group_max, group_step = -1, -1, None
    for step, other in pairs:
        if step != group_step:
            earlier_max, group_max, group_step = max(earlier_max, group_max), -1, step
        if other < earlier_max:
            return False
        group_max = max(group_max, other)
    return True


def _sources_agree(first: Reading, second: Reading) -> bool:
    """A word outside context phrases in both texts is a source ("from UTC") in both or
    in neither ("to UTC")."""
    shared = first.steps.keys() & second.steps.keys()
    return first.sources & shared == second.sources & shared


def _roles_agree(first: Reading, second: Reading) -> bool:
    """No word is the target in one text and the source in the other, and no two words
    trade places around a preposition ("replace tabs with spaces" / "replace spaces with
    tabs", "Python faster than Go" / "Go faster than Python"). One word alone may move
    into or out of a phrase ("a Python list" / "a list in Python")."""
    into: set[str] = set()
    out_of: set[str] = set()
    for word, mine in first.roles.items():
        theirs = second.roles.get(word)
        if theirs is None or mine == theirs:
            continue
        if mine and theirs:
            return False
        (into if theirs else out_of).add(theirs or mine)
    return not into & out_of


def _at_most_one_moved(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    """The shared words come in the same order but for one that moved ("a local git
    branch" / "a git branch locally"); two moved words are a swap ("make a private
    repository public" / "make a public repository private"). Linear: the moved word, if
    any, is one of the two at the first place the orders part."""
    shared = set(first) & set(second)
    a = [word for word in first if word in shared]
    b = [word for word in second if word in shared]
    place = next((i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y), None)
    if place is None:
        return True
    return any(
        [w for w in a if w != moved] == [w for w in b if w != moved]
        for moved in (a[place], b[place])
    )


def guard_verdict(query: str, candidate: str) -> tuple[bool, str]:
    """(hit, reason) for two prepared texts; reasons never quote the texts."""
    if query == candidate:
        return True, "same text"
    mine, theirs = read(query), read(candidate)
    symmetric = mine.symmetric and theirs.symmetric
    if symmetric:
        if sorted(mine.literals) != sorted(theirs.literals):
            return False, "literals differ"
    elif mine.literals != theirs.literals:
        return False, "literals differ"
    if mine.words != theirs.words:
        return False, "words differ"
    if symmetric:
        return True, "same words (symmetric question)"
    if not _steps_agree(mine.steps, theirs.steps) or not _sources_agree(mine, theirs):
        return False, "direction differs"
    if not _roles_agree(mine, theirs):
        return False, "roles differ"
    if not _at_most_one_moved(mine.sequence, theirs.sequence):
        return False, "order differs"
    return True, "salient words agree"
