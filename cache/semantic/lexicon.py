"""The guard's word lists: what a word means to the hit decision.

Each word of a question is one of: *soft* (grammar and question filler: dropped), a
*salient* term (a language, tool or format; an operation or its opposite; an order,
position or direction word; a negation — these must agree exactly), or an open *content*
word (which must agree too). Synonyms are folded to one spelling first, so a paraphrase
that says "dict" for "dictionary" or "3" for "three" still agrees.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SOFT = _words(
    """
    a able about also am an and any anything are as at be been being best better but by
    can change check code common convert converting correct correctly could describe
    determine did do does doing done easiest easy element elements example examples
    explain explanation fast fastest figure find finding for from get gets getting give
    going good got had has have having he hello help here hey hi how i idiomatic if
    in into is it it's item items its just know let let's lets made make makes making
    may me mean meaning meant might mine must my need needed needs new of ok okay on
    one's onto or our please possible program proper properly pythonic quick
    quickest quite really recommended return returning returns see send sending
    shall she should show simple simplest snippet so some something standard such tell
    thank thanks that the their them then there these they thing things this those to
    together too transform try trying turn use used using very via view wanna want
    wanted was way ways we were what what's whatever whats when where whether which
    whichever who whom whose why will with within work working would write writing
    written you your yours
    """
)
"""Grammar and question filler. ``convert``/``turn`` are here because the direction of a
conversion lives in its prepositions (``to``/``from``), which the guard reads separately."""

NEGATIONS = frozenset(
    {"not", "no", "never", "without", "none", "nor", "except", "excluding", "cannot"}
)

ORDER_BREAKS = frozenset({"to", "into", "onto", "from", "then"})
"""Words that order what stands before them against what stands after: the source and
the target of a conversion or a move, and steps in sequence."""

PREPOSITIONS = frozenset(
    {"in", "on", "at", "for", "with", "by", "of", "about", "as", "via"}
    | {"using", "inside", "within", "through", "across", "per", "between", "than"}
    | {"to", "into", "onto", "from"}
)

ROLES = {
    "to": "to", "into": "to", "onto": "to", "from": "from", "with": "with", "using": "with",
    "via": "with", "than": "than", "by": "by", "against": "against", "over": "over",
}  # fmt: skip
"""The part a word plays after a preposition: a target, a source, an instrument or a
replacement, a comparison, a key. Other prepositions ("in", "of", "for") say little: a
word after them plays no part ("rows in a table" = "rows of a table")."""

CLAUSE_BREAKS = frozenset(
    {"and", "but", "while", "then", "so", "or", "when", "if", "that", "which", "where"}
    | {"whether", "because", "though", "although", "unless", "until"}
)
"""Words that end a prepositional phrase (and with it a direction or a context)."""

CONTEXT_PREPOSITIONS = frozenset({"in", "with", "using", "via", "on", "inside", "within"})
"""Prepositions whose phrase says where or with what ("in Python", "with pandas"): such a
phrase may move in the sentence without changing the question."""

SYMMETRIC_MARKERS = frozenset({"difference", "differences", "vs", "versus", "compare", "compared"})
"""A question about "the difference between X and Y" means the same with X and Y swapped."""

NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11",
    "twelve": "12", "twenty": "20", "hundred": "100", "thousand": "1000",
    "once": "1x", "twice": "2x", "single": "1", "double": "2x", "triple": "3x",
}  # fmt: skip

SYNONYMS = {
    # types and things
    "int": "integer", "ints": "integer", "str": "string", "strings": "string",
    "dict": "dictionary", "dicts": "dictionary", "dictionaries": "dictionary",
    "hashmap": "dictionary", "map": "dictionary", "arr": "array", "lists": "list",
    "repo": "repository", "repos": "repository", "folder": "directory", "dir": "directory",
    "folders": "directory", "directories": "directory", "dirs": "directory",
    "func": "function", "fn": "function", "method": "function", "funcs": "function",
    "arg": "argument", "args": "argument", "param": "parameter", "params": "parameter",
    "env": "environment", "venv": "virtualenv", "virtualenv": "virtualenv",
    "dupes": "duplicate", "dupe": "duplicate", "duplicates": "duplicate",
    "repeated": "duplicate", "duplicated": "duplicate", "char": "character",
    "chars": "character", "db": "database", "var": "variable",
    "vars": "variable", "regexp": "regex", "regular": "regex", "expression": "regex",
    "commits": "commit", "branches": "branch", "files": "file",
    # languages, tools, formats
    "js": "javascript", "node": "node.js", "nodejs": "node.js", "ts": "typescript",
    "golang": "go", "py": "python", "python3": "python", "k8s": "kubernetes",
    "postgres": "postgresql", "psql": "postgresql", "pg": "postgresql", "sh": "shell",
    "csharp": "c#", "cpp": "c++", "yml": "yaml", "vscode": "vscode",
    # operations
    "delete": "remove", "deleting": "remove", "deleted": "remove", "erase": "remove",
    "recursively": "recursive", "rm": "remove", "del": "remove", "drop": "remove",
    "removing": "remove",
    "combine": "merge", "combining": "merge", "merging": "merge",
    "concatenate": "join", "concat": "join", "concatenating": "join", "joining": "join",
    "loop": "iterate", "looping": "iterate", "iterating": "iterate", "traverse": "iterate",
    "kill": "terminate", "terminate": "terminate", "create": "create", "generate": "create",
    "build": "create", "initialise": "create", "initialize": "create",
    "sorting": "sort", "sorted": "sort", "trim": "strip", "strips": "strip",
    "retrieve": "fetch", "fetching": "fetch", "count": "count", "counting": "count",
    "parsing": "parse", "parsed": "parse", "revert": "undo", "reverting": "undo",
    "rollback": "undo", "launch": "start", "run": "run", "running": "run", "execute": "run",
    "keeping": "keep", "preserve": "keep", "retain": "keep", "lose": "discard",
    "reversed": "reverse", "reversing": "reverse", "splitting": "split",
    # order, position, size
    "biggest": "max", "largest": "max", "greatest": "max", "highest": "max",
    "maximum": "max", "smallest": "min", "lowest": "min", "minimum": "min", "least": "min",
    "beginning": "first", "front": "first", "start": "first", "head": "first",
    "end": "last", "tail": "last", "back": "last", "ending": "last",
    "asc": "ascending", "desc": "descending", "increasing": "ascending",
    "decreasing": "descending", "bigger": "larger", "greater": "larger",
    "lesser": "smaller", "fewer": "smaller", "less": "smaller",
    "locally": "local", "remotely": "remote", "globally": "global",
    "every": "all", "today": "current", "now": "current", "latest": "last", "recent": "last",
}  # fmt: skip
"""A word on the left means the one on the right (after the plural ``s`` is dropped)."""

PHRASES = {
    "vs code": "vscode", "visual studio code": "vscode", "node js": "node.js",
    "c sharp": "c#", "line by line": "linebyline", "upper case": "uppercase",
    "lower case": "lowercase", "get rid of": "remove", "look up": "lookup",
    "time zone": "timezone", "key value": "keyvalue", "list of lists": "nested list",
}  # fmt: skip
"""Multi-word names folded to one token before the words are split."""

TECH_NAMES = {
    name: name
    for name in _words(
        """
    .net asp.net bitbucket c# c++ coffeescript d3.js devops docker-compose express.js f#
    fastapi github gitlab graphql intellij ios ipad iphone javascript latex macos
    mongodb mysql next.js node.js nosql numpy nuxt.js oauth objective-c postgresql
    powershell pre-commit pycharm pypi pytorch scikit-learn scipy sqlite tensorflow
    three.js typescript vscode vue.js websocket websockets
        """
    )
}
"""Names of languages, tools and formats that look like code (a dot, a capital inside)
but are words: "Node.js" is the tool, not a literal to compare by case."""
TECH_NAMES |= {"react.js": "react", "reactjs": "react", "vuejs": "vue.js", "e-mail": "email"}
