"""Syntax errors in the words of a policy officer: the commonest slips, named, at the right place.

Input: the text of one `.clause` file and Lark's `UnexpectedInput` (position, and the
parser state, whose table gives the terminals allowed there). Output: one E001
`Diagnostic`. Each slip has its own message and hint: a missing `then`; capitalised
keywords (`Then`) and names (`Team Manager`, `TM`); a single or unpaired curly quote
pasted from Word; a quote never closed (reported at its opening quote); a bracket
never closed (reported at the bracket). Only when nothing specific applies is the
expected set shown, short and grouped, as the hint. Reads nothing but its input.
"""
from __future__ import annotations

import difflib

import re

from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from compiler.core import vocabulary as vocab
from compiler.core.diagnostics import Diagnostic, Span, error
from compiler.core.suggest import snake, synonym

TERMINAL_WORDS = {
    "ID": "a clause id such as LMCP-CP-1",
    "NAME": "a snake_case name",
    "STRING": 'a quoted "text"',
    "INT": "a whole number",
    "MORE_THAN": "'more than'",
}
ITEMS = ("CLAUSE", "EXCEPTION", "NOT", "SECTION", "DOCUMENT", "DECLARE", "ACCEPT", "LOCAL", "$END")
TIMINGS = ("WITHIN", "FROM", "EVERY", "IMMEDIATELY", "UNTIL")
SINGLE_QUOTES = "'‘’‚‛"
NAMES = (*vocab.STATUSES, *vocab.FLAGS, *vocab.ACTORS, *vocab.ACTIONS, *vocab.CHILD_FIELDS,
         *vocab.EPISODE_BOOLEANS, *vocab.EPISODE_LEVELS, *vocab.RISK_LEVELS, *vocab.CATEGORIES)


def expected_terminals(e: UnexpectedInput) -> set[str]:
    """The terminals the parser would accept here. Taken from the parse table: when the
    lexer fails, Lark's own list names only the regex terminals, not the keywords."""
    state = getattr(e, "state", None)
    try:
        return {t for t in state.parse_conf.states[state.position] if t.isupper()}
    except (AttributeError, KeyError, TypeError):
        return set(getattr(e, "expected", None) or getattr(e, "allowed", None) or ())


def syntax_error(path: str, text: str, e: UnexpectedInput, keywords: dict[str, str]) -> Diagnostic:
    """One E001 for the first syntax error; `keywords` maps keyword terminals to their words."""
    expected = expected_terminals(e)
    if isinstance(e, UnexpectedToken) and e.token.type == "$END":
        pos, found = len(text.rstrip()), "end of file"
    elif isinstance(e, UnexpectedToken):
        pos, found = e.token.start_pos or 0, f"'{e.token.value}'"
    else:
        pos = e.pos_in_stream
        found = f"'{text[pos]}'" if pos < len(text) else "end of file"
    slip = (_quote_slip(text, pos, isinstance(e, UnexpectedCharacters)) or _bracket_slip(text, pos, found, expected)
            or _capital_slip(text, pos, expected, keywords) or _glued_slip(text, pos, e, keywords)
            or _then_slip(text, pos, e, expected)
            or _split_name_slip(text, pos, e, expected, keywords))
    if slip is None:
        at, end = pos, pos + 1
        message, hint = f"syntax error: unexpected {found}", "expected " + describe(text, pos, expected, keywords)
    else:
        at, end, message, hint = slip
    at = max(0, min(at, len(text)))
    line, col = _line_col(text, at)
    end_line, end_col = _line_col(text, max(end, at + 1))
    return error("E001", Span(path, line, col, end_line, end_col), message, hint)


def _line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of an offset, counting lines as the parser does (only \\n)."""
    pos = min(pos, len(text))
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


Slip = tuple[int, int, str, str]  # start, end, message, hint


def _quote_slip(text: str, pos: int, lexer_failed: bool) -> Slip | None:
    ch = text[pos] if pos < len(text) else ""
    both = 'quote text with straight double quotes "..." (or curly “...”), the same kind at both ends, on one line'
    if ch in SINGLE_QUOTES:
        return (pos, pos + 1, f"text is quoted with double quotes, not with {ch}", both)
    if ch == "“":
        return (pos, _line_end(text, pos), "this curly quote “ is never closed with ” on its line", both)
    if ch == "”":
        return (pos, pos + 1, "a closing curly quote ” with no opening “", both)
    if ch == '"' and lexer_failed:
        rest = text[pos + 1:_line_end(text, pos)]
        hint = "it ends with a curly ” on this line: use the same kind of quote at both ends" if "”" in rest else \
            'close the text with " on the same line'
        return (pos, _line_end(text, pos), "this quote is never closed", hint)
    return None


def _open_brackets(text: str, end: int) -> list[int]:
    """Offsets of the '(' still open at `end`, strings and comments skipped."""
    stack: list[int] = []
    i = 0
    while i < end:
        ch = text[i]
        if ch == "#":
            i = _line_end(text, i)
        elif ch in '"“':
            close = '"' if ch == '"' else "”"
            j = i + 1
            while j < end and text[j] not in (close, "\n"):
                j += 2 if text[j] == "\\" and close == '"' else 1
            i = j
        elif ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            stack.pop()
        i += 1
    return stack


def _bracket_slip(text: str, pos: int, found: str, expected: set[str]) -> Slip | None:
    opens = _open_brackets(text, pos)
    if found == "')'" and not opens:
        return (pos, pos + 1, "this ')' closes no bracket", "remove it, or add '(' where the group starts")
    if opens and "RPAR" in expected:
        return (opens[-1], opens[-1] + 1, "this bracket is never closed",
                f"close it with ')' after the last condition it groups, before {found}")
    return None


def _capital_slip(text: str, pos: int, expected: set[str], keywords: dict[str, str]) -> Slip | None:
    word = re.match(r"[A-Za-z][A-Za-z0-9_-]*", text[pos:])
    if word is None:
        return None
    w = word.group()
    if "ID" in expected and "NAME" not in expected:
        fix = f"write {w.upper()}" if w.upper() != w else \
            "an id is at least two capitals or digits (LMCP), or parts joined by dashes (LMCP-CP-1)"
        return (pos, pos + len(w), f"'{w}' is not a clause id: ids are capitals, digits and dashes, like LMCP-CP-1", fix)
    if not w[0].isupper():
        return None
    words = set(keywords.values())
    allowed = {keywords[t] for t in expected if t in keywords}
    if w.lower() in allowed or (w.lower() in words and "NAME" not in expected):
        return (pos, pos + len(w), f"keywords are lower case: write '{w.lower()}', not '{w}'", "")
    if "NAME" not in expected:
        return None
    run, end = [w], pos + len(w)
    stop = (words - {"in", "force"}) | set(vocab.MODALITIES)  # 'in force' only follows a title: "Child In Care"
    following = re.compile(r"[ \t]+([A-Z][\w’'-]*)")  # further capitalised words: "Team Manager"
    while (m := following.match(text, end)) is not None and m.group(1).lower() not in stop:
        run.append(m.group(1))
        end = m.end()
    shown = " ".join(run)
    meant = synonym(shown, NAMES) or snake(shown)
    how = "names are lower case, one word joined by underscores" if len(run) > 1 else "names are lower case"
    return (pos, end, f"{how}: write {meant}, not '{shown}'",
            "names are in the shared vocabulary, e.g. team_manager, looked_after, strategy_discussion")


def _glued_slip(text: str, pos: int, e: UnexpectedInput, keywords: dict[str, str]) -> Slip | None:
    """`lasted 72 hourz`: the lexer reads the keyword `hour` and then a name `z`, so the error lands inside the
    word; the word as written is the slip, with the nearest keyword or name."""
    if not isinstance(e, UnexpectedToken) or e.token.type != "NAME" or pos == 0 or not re.match(r"\w", text[pos - 1]):
        return None
    start = pos
    while start > 0 and re.match(r"\w", text[start - 1]):
        start -= 1
    if text[start:pos].isdigit():  # `72h`: a number and a unit, which the expected list says better
        return None
    word = text[start:pos + len(e.token.value)]
    close = difflib.get_close_matches(word, sorted({*keywords.values(), *NAMES}), n=1, cutoff=0.6)
    return (start, pos + len(e.token.value), f"'{word}' is not a word of the language",
            f"did you mean '{close[0]}'?" if close else "check its spelling against the keywords and the vocabulary")


def _then_slip(text: str, pos: int, e: UnexpectedInput, expected: set[str]) -> Slip | None:
    if "THEN" not in expected or not isinstance(e, UnexpectedToken):
        return None
    tok = e.token
    if tok.type == "NAME" and difflib.get_close_matches(tok.value, ["then"], n=1, cutoff=0.7):
        return (pos, pos + len(tok.value), f"'{tok.value}' is not a keyword: did you mean 'then'?",
                "a conclusion starts with 'then'")
    if tok.type == "NAME":
        rest = text[pos:_line_end(text, pos)].strip()
        return (pos, pos + len(tok.value), f"'then' is missing before '{tok.value}'",
                f"a conclusion starts with 'then': then {rest}")
    if tok.type == "THE" and "AND" in expected:
        return (pos, pos + 3, "another condition or the conclusion starts here without 'and', 'or' or 'then'",
                "join conditions with 'and' or 'or'; start the conclusion with 'then'")
    return None


def _split_name_slip(text: str, pos: int, e: UnexpectedInput, expected: set[str],
                     keywords: dict[str, str]) -> Slip | None:
    """`then team manager must ...`: a name of several words, found when the obligation runs on."""
    if not isinstance(e, UnexpectedToken) or e.token.type != "NAME" or "WITHIN" not in expected:
        return None
    line_start = text.rfind("\n", 0, pos) + 1
    starts = list(re.finditer(r"\b(then|also)\b", text[line_start:pos]))  # the conclusion, on this line
    if not starts:
        return None
    words = text[line_start + starts[-1].end():pos + len(e.token.value)].split()
    if set(words) & (set(keywords.values()) - {"and"}):
        return None  # a keyword in between: the names are whole, something else is wrong
    m = next((i for i, w in enumerate(words) if w in vocab.MODALITIES), None)
    if m is None:
        return None
    groups = " ".join(words[:m]).split(" and ")
    several = next((g for g in groups if len(g.split()) > 1), None)
    if several is not None:
        name = "_".join(several.split())
        return (text.rfind(several, 0, pos), text.rfind(several, 0, pos) + len(several),
                f"an actor's name is one word: write {name}, not '{several}'", f"e.g. {name} must ...")
    rest = words[m + 1:]
    if len(rest) >= 3:
        phrase = " ".join(rest[1:])
        at = text.rfind(phrase, 0, pos + len(e.token.value))
        return (at, at + len(phrase), f"an action's name is one word: write {'_'.join(rest[1:])}, not '{phrase}'",
                f"an obligation reads: ACTOR {words[m]} [verb] ACTION, e.g. team_manager must hold strategy_discussion")
    return None


def describe(text: str, pos: int, expected: set[str], keywords: dict[str, str]) -> str:
    """The expected set, short: items and timings grouped, brackets only when one is open."""
    names = set(expected)
    if not _open_brackets(text, pos):
        names.discard("RPAR")
    items = list(re.finditer(r"^\s*(clause|exception|not\s+encoded)\b", text[:pos], re.M))
    if not items or not items[-1].group(1).startswith("not"):
        names.discard("BECAUSE")
    parts = []
    if "CLAUSE" in names:
        parts.append("a new item (clause, exception, not encoded, section, document, declare, accept, local standard)")
        names -= set(ITEMS)
    if len(names & set(TIMINGS)) == len(TIMINGS):
        parts.append("a timing (within, from, every, until returned, immediately)")
        names -= set(TIMINGS)
    words = sorted(f"'{keywords[n]}'" if n in keywords else TERMINAL_WORDS.get(n, n.lower()) for n in names)
    parts = words + parts
    if "$END" in expected and "CLAUSE" not in expected:
        parts.append("the end of the file")
    return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else (parts[0] if parts else "something else")
