"""Source documents: finding quotes verbatim and splitting text into sentences.

Input: a document's text. Quotes are matched verbatim except for whitespace (any
run of spaces, tabs and line breaks equals one space) and the kind of quotation mark:
a quote typed with straight ' and " matches a source with curly ‘ ’ “ ” and the other
way round (an exact match is preferred where both exist). Output positions are
1-based line and column in the original text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

_WS = re.compile(r"\s+")
# Page furniture of the web captures: not policy text.
FURNITURE = {"Skip to content", "Company Logo", "missing_def", "v20"}
# Quotation marks Word and web pages use, each folded to its straight form (one character for one).
_FOLD = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"'})


def fold_quotes(text: str) -> str:
    return text.translate(_FOLD)


def _inside_word(text: str, i: int) -> bool:
    return 0 < i < len(text) and text[i - 1].isalnum() and text[i].isalnum()


def normalise(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _occurrences(text: str, q: str) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of `q` in `text` that neither starts nor ends inside a word."""
    if not q:
        return []
    found, start = [], text.find(q)
    while start >= 0:
        end = start + len(q)
        if not (_inside_word(text, start) or _inside_word(text, end)):
            found.append((start, end))
        start = text.find(q, start + 1)
    return found


@dataclass(frozen=True)
class Sentence:
    """A normative unit of a source: a sentence, or a bullet / numbered item."""

    index: int
    text: str
    line: int
    column: int
    start: int  # offsets in the normalised text
    end: int


@dataclass
class SourceText:
    """One document's text, with a whitespace-normalised view for matching."""

    path: str
    text: str
    _norm: str = field(init=False, default="")
    _map: list[int] = field(init=False, default_factory=list)
    _folded: str = field(init=False, default="")

    def __post_init__(self) -> None:
        chars, mapping, prev_space = [], [], True
        for i, ch in enumerate(self.text):
            if ch.isspace():
                if not prev_space:
                    chars.append(" ")
                    mapping.append(i)
                prev_space = True
            else:
                chars.append(ch)
                mapping.append(i)
                prev_space = False
        self._norm, self._map = "".join(chars), mapping
        self._folded = fold_quotes(self._norm)

    def position(self, norm_offset: int) -> tuple[int, int]:
        """(line, column) in the original text of an offset in the normalised text."""
        original = self._map[min(norm_offset, len(self._map) - 1)] if self._map else 0
        line = self.text.count("\n", 0, original) + 1
        column = original - (self.text.rfind("\n", 0, original) + 1) + 1
        return line, column

    def find(self, quote: str) -> list[tuple[int, int]]:
        """Normalised (start, end) offsets of every verbatim occurrence of `quote`; failing
        any, of every occurrence that differs only in the kind of quotation mark."""
        q = normalise(quote)
        return _occurrences(self._norm, q) or _occurrences(self._folded, fold_quotes(q))

    def longest_prefix(self, quote: str) -> tuple[int, int]:
        """How many leading characters of the quote occur in the text (quotation marks folded), and where."""
        q = fold_quotes(normalise(quote))
        lo, hi, at = 0, len(q), 0
        while lo < hi:
            mid = (lo + hi + 1) // 2
            pos = self._folded.find(q[:mid])
            if pos >= 0:
                lo, at = mid, pos
            else:
                hi = mid - 1
        return lo, at

    def char_at(self, norm_offset: int) -> str:
        """The character at an offset of the normalised text ("" past its end)."""
        return self._norm[norm_offset] if 0 <= norm_offset < len(self._norm) else ""

    @cached_property
    def sentences(self) -> tuple[Sentence, ...]:
        """Sentences and list items in order, page furniture left out."""
        out: list[Sentence] = []
        offset = 0
        for raw_line in self.text.splitlines(keepends=True):
            line_text = raw_line.strip()
            line_start = offset
            offset += len(raw_line)
            if not line_text or line_text in FURNITURE:
                continue
            body = re.sub(r"^(•|\d+\.)\s*", "", line_text)
            for piece in re.split(r"(?<=[.;!?])\s+(?=[A-Z*(‘'“\"])", body):
                norm = normalise(piece)
                if not norm:
                    continue
                hits = self.find(norm)
                local = self.text.find(piece, line_start)
                start = next((s for s, _ in hits if self._map[s] >= line_start), hits[0][0] if hits else 0)
                line = self.text.count("\n", 0, local) + 1 if local >= 0 else 0
                col = local - (self.text.rfind("\n", 0, local) + 1) + 1 if local >= 0 else 0
                out.append(Sentence(len(out), norm, line, col, start, start + len(norm)))
        return tuple(out)
