"""Normalising words so that a quote and a transcript can be compared, and writing
spelled numbers as Whisper writes them (``Eight twelve`` as ``812``).

Both sides go through the same small steps: Unicode apostrophe and hyphen
variants, case, punctuation, hyphen splits, thousands separators, spelled and
written numbers (``ten four``, ``10-4`` and ``10 4`` all become ``10 4``). Each
step says what it changed, as ftfy's ``fix_and_explain`` does, so a difference
can be explained later.

Contractions stay one token (``we're``); :func:`same_form` and
:func:`contraction_of` say when two token sequences differ only in form
(contraction, filler, number format, hyphenation or spacing).

Radio words come from a glossary shipped as data (``pipeline/data/glossary.csv``: street
and title abbreviations, ten-codes, phonetic letters, each row with its source), which an
agency's own file in the same columns extends (:func:`load_glossary`): ``St.`` and
``street``, ``10-4`` and ``104``, ``Adam`` and ``A`` differ only in form. So does a
reporter's typo that swaps two letters of a longer word or doubles one.

What it does not do: spelling correction beyond those typos, stemming, or ordinals beyond
those :func:`same_digits` reads (``eighth`` / ``8th``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.records import Word
from pipeline.spoken import fix_characters, is_name, spelled_number, strip_edges

FILLERS = frozenset({"uh", "um", "umm", "uhm", "uhh", "er", "erm", "ah", "ahh", "hmm", "hm",
                     "mm", "mhm", "eh"})
"""Hesitation words a recogniser writes and a reporter leaves out."""
STOPWORDS = frozenset(
    "a an the and or but so to of in on at for from by with as is are was were be been am "
    "it its it's that this these those there here i we you he she they me us him her them "
    "my our your his their not no do did does if then than all out up over off into".split())
"""Function words: they count less when scoring a match."""

UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
"""Spelled numbers below twenty."""
TENS = {w: 10 * i for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
"""Spelled multiples of ten from twenty."""
SCALES = {"hundred": 100, "thousand": 1000}
"""Spelled multipliers."""

CONTRACTIONS = {
    "can't": ("can", "not"), "won't": ("will", "not"), "shan't": ("shall", "not"),
    "ain't": ("am", "not"), "let's": ("let", "us"), "i'm": ("i", "am"),
}
"""Contractions that the general suffix rules do not cover."""
SUFFIXES = (("n't", "not"), ("'re", "are"), ("'ll", "will"), ("'ve", "have"), ("'d", "would"),
            ("'m", "am"))
"""Contraction suffixes and the word they stand for."""
S_HOSTS = frozenset("it that there he she what who here where how".split())
"""Words whose ``'s`` is ``is`` (or ``has``) rather than a possessive."""
VARIANTS = {"towards": "toward", "afterwards": "afterward", "backwards": "backward",
            "forwards": "forward", "upwards": "upward", "downwards": "downward",
            "anyways": "anyway", "ok": "okay"}
"""Spellings of one word that a recogniser and a reporter may each write."""
ZEROS = frozenset({"oh", "o"})
"""Words said for a zero between digits (``three oh five`` is ``305``)."""
GLOSSARY = Path(__file__).resolve().parent / "data" / "glossary.csv"
"""The shipped glossary of radio words (columns ``kind, written, said, source``)."""
MIN_TYPO_LETTERS = 5
"""Shortest word in which two swapped or one doubled letter count as a typo, not another
word: in shorter words one letter makes another word too often (``on``/``no``)."""

_WORD_BREAK = re.compile(r"[\s\u2014\u2015\u2026]+|\.{3,}|-{2,}")
_EDGE = re.compile(r"^[^\w]+|[^\w]+$")
_PIECE_BREAK = re.compile(r"[-/:;_+&=]+")
_OH_DIGIT = re.compile(r"^0[1-9]$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")
_INNER_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_INNER_JUNK = re.compile(r"[^\w'.]")


@dataclass(slots=True)
class Token:
    """One normalised word (or piece of a word) and how it was obtained."""

    text: str
    """The normalised form used for matching (``10``, ``we're``, ``hit``)."""
    original: str
    """The source word as written (``Ten``, ``We’re``, ``hit‑and‑run,``)."""
    index: int
    """Position of the source word in its word list (whitespace words or recogniser words)."""
    changes: tuple[str, ...] = ()
    """What normalising changed, in order (``lowercase``, ``apostrophe U+2019``)."""
    span: int = 1
    """How many source words the token covers (2 for ``twenty five`` -> ``25``)."""


def split_words(text: str) -> list[str]:
    """Split text into words at whitespace, dashes and ellipses.

    >>> split_words("clear out—we’re not… going")
    ['clear', 'out', 'we’re', 'not', 'going']
    """
    return [w for w in _WORD_BREAK.split(text) if w]


def is_filler(token: Token | str) -> bool:
    """Whether a token is a hesitation word (``uh``, ``um``).

    >>> is_filler("Um")
    True
    """
    text = token.text if isinstance(token, Token) else token.lower().strip(".,!?")
    return text in FILLERS


def weight(token: Token | str) -> float:
    """How much a quote token counts when scoring: 0 fillers, 0.3 function words, else 1."""
    text = token.text if isinstance(token, Token) else token
    if text in FILLERS:
        return 0.0
    return 0.3 if text in STOPWORDS else 1.0


def _keep_separator(match: re.Match) -> str:
    """Keep characters that split a word into pieces; drop other inner punctuation."""
    return match.group() if match.group() in "-/:;+&=" else ""


def _strip_punctuation(word: str) -> tuple[str, list[str]]:
    """Drop punctuation at the edges and inside (not apostrophes, hyphens, decimal points)."""
    stripped = _EDGE.sub("", word)
    if _THOUSANDS.match(stripped):
        return stripped.replace(",", ""), ["thousands separator"]
    inner = _INNER_DOT.sub("", _INNER_JUNK.sub(_keep_separator, stripped))
    return inner, (["punctuation"] if inner != word else [])


def _number_piece(piece: str) -> tuple[str, list[str]]:
    """Spelled number words to digits, leading zeros dropped."""
    if piece in UNITS:
        return str(UNITS[piece]), [f"number '{piece}' -> '{UNITS[piece]}'"]
    if piece in TENS:
        return str(TENS[piece]), [f"number '{piece}' -> '{TENS[piece]}'"]
    if piece.isdigit() and len(piece) > 1 and piece.startswith("0"):
        return str(int(piece)), [f"number '{piece}' -> '{int(piece)}'"]
    return piece, []


@lru_cache(maxsize=200_000)
def normalize_word(word: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Normalise one written word into pieces, each with the changes applied.

    Args:
        word: one whitespace-separated word as written.

    Returns:
        ``(text, changes)`` pairs; empty when the word is only punctuation.

    >>> normalize_word("10‑4,")
    (('10', ('hyphen U+2011', 'punctuation', 'hyphen split')), ('4', ('hyphen U+2011', \
'punctuation', 'hyphen split')))
    """
    fixed, changes = fix_characters(word)
    lowered = fixed.lower()
    if lowered != fixed:
        changes.append("lowercase")
    stripped, more = _strip_punctuation(lowered)
    changes += more
    raw_pieces = [p for p in _PIECE_BREAK.split(stripped) if p]
    if len(raw_pieces) > 1:
        changes.append("hyphen split")
    pieces = []
    for i, raw in enumerate(raw_pieces):
        raw = raw.strip("'")
        if not raw:
            continue
        if i and _OH_DIGIT.match(raw):  # the minutes of 3:05, said "three oh five"
            said = (f"number '{raw}' -> '0 {raw[1]}'",)
            pieces += [("0", tuple(changes) + said), (raw[1], tuple(changes) + said)]
            continue
        text, number_changes = _number_piece(raw)
        for piece in _as_said(text):
            said = [f"number '{text}' -> '{' '.join(_as_said(text))}'"] if piece != text else []
            pieces.append((piece, tuple(changes + number_changes + said)))
    return tuple(pieces)


def _as_said(text: str) -> list[str]:
    """A written three-digit number in the pieces radio speech says it in (``833`` is
    ``eight thirty-three``: ``8 33``; ``812``: ``8 12``); other text as it is. Round
    hundreds (``300``) and ``105`` stay whole: they are said as one number."""
    if len(text) == 3 and text.isdigit() and text[0] != "0" and text[1] != "0":
        return [text[0], text[1:]]
    return [text]


def _spelled_word(token: Token) -> str | None:
    """The number word a token was spelled as (``twenty``), or None."""
    for change in token.changes:
        if change.startswith("number '"):
            word = change.split("'")[1]
            if word in UNITS or word in TENS:
                return word
    return None


def _compound(prev: Token, token: Token) -> int | None:
    """The value of two adjacent spelled numbers read as one (``twenty five``), or None."""
    first, second = _spelled_word(prev), _spelled_word(token)
    if first is None or prev.span != 1 or token.index - prev.index not in (0, 1):
        return None
    if first in TENS and second is not None and 0 < UNITS.get(second, 0) < 10:
        return TENS[first] + UNITS[second]
    if first in TENS and token.index == prev.index and token.text.isdigit() and len(token.text) == 1 \
            and token.text != "0":  # twenty-2, half spelled
        return TENS[first] + int(token.text)
    if token.text in SCALES and 0 < UNITS.get(first, TENS.get(first, 0)) < 100:
        return int(prev.text) * SCALES[token.text]
    return None


def _merge_numbers(tokens: list[Token]) -> list[Token]:
    """Join spelled compounds: ``twenty five`` -> ``25``, ``two hundred`` -> ``200``.

    ``ten four`` stays two tokens (``10 4``), as radio speech means it.
    """
    out: list[Token] = []
    for token in tokens:
        value = _compound(out[-1], token) if out else None
        if value is None:
            out.append(token)
            continue
        prev = out.pop()
        same_word = prev.index == token.index
        original = prev.original if same_word else f"{prev.original} {token.original}"
        spelled = f"{_spelled_word(prev)} {_spelled_word(token) or token.text}"
        keep = tuple(c for c in prev.changes if not c.startswith("number "))
        out.append(Token(str(value), original, prev.index,
                         keep + (f"number '{spelled}' -> '{value}'",),
                         prev.span if same_word else prev.span + token.span))
    return out


def _zeros(tokens: list[Token]) -> list[Token]:
    """``oh`` between two digits is a zero, as times and unit numbers are said."""
    out = list(tokens)
    for i in range(1, len(tokens) - 1):
        t = tokens[i]
        if t.text in ZEROS and tokens[i - 1].text.isdigit() and len(tokens[i + 1].text) == 1 \
                and tokens[i + 1].text.isdigit():
            out[i] = Token("0", t.original, t.index, t.changes + (f"number '{t.text}' -> '0'",), t.span)
    return out


def tokens_from_strings(words: Iterable[str], start: int = 0) -> list[Token]:
    """Normalise a list of words; each token's index is ``start`` plus the word's position."""
    tokens = [Token(text, word, i, changes)
              for i, word in enumerate(words, start)
              for text, changes in normalize_word(word)]
    return _merge_numbers(_zeros(tokens))


def normalize(text: str) -> list[Token]:
    """Normalise published or recognised text into tokens for matching.

    Args:
        text: any text (a quote, a part of one, a transcript line).

    Returns:
        Tokens in order; ``index`` is the position in :func:`split_words` of the text.

    >>> [t.text for t in normalize("Ten-four, we’re 10‑4… uh, TWENTY five")]
    ['10', '4', "we're", '10', '4', 'uh', '25']
    """
    return tokens_from_strings(split_words(text))


def tokens_from_words(words: Sequence[Word], start: int = 0) -> list[Token]:
    """Normalise recognised words the same way as :func:`normalize`.

    Args:
        words: the recogniser's words, in order.
        start: added to every index (when ``words`` is a slice of a longer list).

    Returns:
        Tokens; ``index`` is the position in ``words`` (a word like ``10-4`` gives two
        tokens with the same index, ``twenty five`` gives one token with ``span`` 2).
    """
    return tokens_from_strings((w.word.strip() for w in words), start)


def expand_contraction(text: str) -> tuple[str, ...]:
    """The words a contraction stands for; the token itself when it is not one.

    >>> expand_contraction("we're"), expand_contraction("didn't"), expand_contraction("it's")
    (('we', 'are'), ('did', 'not'), ('it', 'is'))
    """
    if text in CONTRACTIONS:
        return CONTRACTIONS[text]
    for suffix, full in SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return (text[: -len(suffix)], full)
    if text.endswith("'s") and text[:-2] in S_HOSTS:
        return (text[:-2], "is")
    return (text,)


def contraction_of(first: str, second: str) -> str | None:
    """The contraction two normalised words can be written as, else None.

    >>> contraction_of("we", "are"), contraction_of("can", "not"), contraction_of("it", "has")
    ("we're", "can't", "it's")
    """
    for short, full in CONTRACTIONS.items():
        if full == (first, second):
            return short
    if second == "not":
        return f"{first}n't"
    if second in ("is", "has") and first in S_HOSTS:
        return f"{first}'s"
    if second == "had":
        second = "would"
    for suffix, full in SUFFIXES:
        if full == second and first.isalpha():
            return f"{first}{suffix}"
    return None


def _contract(texts: list[str]) -> list[str]:
    """Write every expandable word pair as its contraction (``cannot`` as ``can't``)."""
    texts = ["can't" if t == "cannot" else t for t in texts]
    out: list[str] = []
    i = 0
    while i < len(texts):
        short = contraction_of(texts[i], texts[i + 1]) if i + 1 < len(texts) else None
        if short is not None:
            out.append(short)
            i += 2
        else:
            out.append(texts[i])
            i += 1
    return out


def _categories(tokens: Iterable[Token]) -> set[str]:
    """Kinds of change applied to tokens, in the words :func:`same_form` reports."""
    kinds = set()
    for token in tokens:
        for change in token.changes:
            if change.startswith("number") or change == "thousands separator":
                kinds.add("number format")
            elif change == "hyphen split" and token.text.isdigit():
                kinds.add("number format")
            elif change.startswith("hyphen"):
                kinds.add("hyphenation")
            elif change.startswith("apostrophe"):
                kinds.add("apostrophe")
            elif change == "lowercase":
                kinds.add("case")
            else:
                kinds.add("punctuation")
    return kinds


@dataclass(frozen=True)
class GlossaryEntry:
    """One glossary row: a written form and the words it is said as."""

    kind: str
    """``street``, ``title``, ``signal``, ``phonetic`` or an agency's own kind."""
    written: str
    """As a reporter may print it (``St.``, ``10-4``, ``A``)."""
    said: str
    """The words said (``street``, ``ten four``, ``Adam``)."""
    source: str = ""
    """Where the row comes from."""


def load_glossary(*paths: str | Path) -> tuple[GlossaryEntry, ...]:
    """The shipped glossary's rows, then those of each agency file given (same columns;
    lines starting with ``#`` are comments).

    >>> [e.said for e in load_glossary() if e.written == "blvd"]
    ['boulevard']
    """
    return tuple(e for path in (GLOSSARY, *paths) for e in _glossary_rows(path))


def _glossary_rows(path: str | Path) -> list[GlossaryEntry]:
    """The rows of one glossary file that give both a written and a said form."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = [line for line in f if line.strip() and not line.lstrip().startswith("#")]
    return [GlossaryEntry((row.get("kind") or "").strip(), row["written"].strip(),
                          row["said"].strip(), (row.get("source") or "").strip())
            for row in csv.DictReader(lines) if row.get("written") and row.get("said")]


def glossary_terms(*paths: str | Path) -> list[str]:
    """The terms of agency glossaries (unit names, streets, talkgroup tags), as written, in
    the files' order, each once whatever its case: the words to show the recogniser. The
    shipped glossary's generic rows (ten-codes, the phonetic alphabet) are not among them.

    Raises:
        OSError, UnicodeDecodeError, KeyError, csv.Error: A file that cannot be read as a
            glossary.
    """
    terms: dict[str, str] = {}
    for path in paths:
        for e in _glossary_rows(path):
            terms.setdefault(e.written.casefold(), e.written)
    return list(terms.values())


_GLOSSARY_FILES: list[Path] = []


def use_glossary(*paths: str | Path) -> None:
    """Extend the glossary that comparisons use with agency files (``--glossary FILE``)."""
    _GLOSSARY_FILES[:] = [Path(p) for p in paths]
    _glossary_phrases.cache_clear()


@lru_cache(maxsize=1)
def _glossary_phrases() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Normalised phrase -> the canonical phrase its class is compared as: a written form
    and every word it is said as map to its first row's said words; phonetic words map to
    their letter first (``Nora`` is ``N``)."""
    def norm(text: str) -> tuple[str, ...]:
        return tuple(t.text for t in normalize(text))

    entries = load_glossary(*_GLOSSARY_FILES)
    letters = {norm(e.said): norm(e.written) for e in entries if e.kind == "phonetic"}
    first: dict[tuple[str, ...], tuple[str, ...]] = {}
    for e in entries:
        if e.kind != "phonetic":
            first.setdefault(norm(e.written), norm(e.said))
    out = {said: first.get(letter, letter) for said, letter in letters.items()}
    for e in entries:
        if e.kind != "phonetic":
            out.setdefault(norm(e.written), first[norm(e.written)])
            out.setdefault(norm(e.said), first[norm(e.written)])
    return {k: v for k, v in out.items() if k}


def glossary_form(texts: Sequence[str]) -> list[str]:
    """Normalised words with every glossary phrase written as its class's canonical words.

    >>> glossary_form(["79th", "st"]), glossary_form(["10", "4"]) == glossary_form(["104"])
    (['79th', 'street'], True)
    """
    phrases = _glossary_phrases()
    longest = max((len(k) for k in phrases), default=1)
    out: list[str] = []
    i = 0
    while i < len(texts):
        for n in range(min(longest, len(texts) - i), 0, -1):
            canon = phrases.get(tuple(texts[i:i + n]))
            if canon is not None:
                out += canon
                i += n
                break
        else:
            out.append(texts[i])
            i += 1
    return out


def is_typo(a: str, b: str) -> bool:
    """Whether two different words are one word with a reporter's typo: two neighbouring
    letters swapped, or one letter doubled, in a word of ``MIN_TYPO_LETTERS`` or more.

    >>> is_typo("insertion", "insretion"), is_typo("occurred", "occured"), is_typo("on", "no")
    (True, True, False)
    >>> is_typo("westbound", "eastbound")
    False
    """
    if a == b or min(len(a), len(b)) < MIN_TYPO_LETTERS - 1 or max(len(a), len(b)) < MIN_TYPO_LETTERS:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] \
            and a[diff[1]] == b[diff[0]]
    short, long = sorted((a, b), key=len)
    if len(long) != len(short) + 1:
        return False
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return long[:i] + long[i + 1:] == short and i > 0 and long[i] == long[i - 1]


def typo_fixes(word: str) -> list[str]:
    """The words a typo of ``word`` may stand for: two neighbouring letters swapped back, a
    doubled letter undoubled, a letter doubled (only for words of ``MIN_TYPO_LETTERS``).

    >>> "insertion" in typo_fixes("insretion"), "occurred" in typo_fixes("occured")
    (True, True)
    >>> typo_fixes("on")
    []
    """
    if len(word) < MIN_TYPO_LETTERS or not word.isalpha():
        return []
    swaps = [word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)
             if word[i] != word[i + 1]]
    undoubled = [word[:i] + word[i + 1:] for i in range(1, len(word)) if word[i] == word[i - 1]]
    doubled = [word[:i] + word[i] + word[i:] for i in range(1, len(word))]
    return list(dict.fromkeys(swaps + undoubled + doubled))


def _typos(xa: list[str], xb: list[str]) -> tuple[list[str], list[str]]:
    """Each word of ``xb`` that is a typo of the word at its place in ``xa`` written as it."""
    if len(xa) != len(xb):
        return xa, xb
    return xa, [x if is_typo(x, y) else y for x, y in zip(xa, xb)]


def _ordinals(xs: list[str]) -> list[str]:
    """Spelled ordinals in digits, a tens word before one joined to it (``70 ninth`` is
    ``79th``, ``twelfth`` is ``12th``)."""
    out: list[str] = []
    for x in xs:
        spelled = spelled_number(x) if x.isalpha() else None
        if spelled is None or not spelled[1]:
            out.append(x)
            continue
        value, suffix = spelled
        if out and out[-1].isdigit() and int(out[-1]) % 10 == 0 and 20 <= int(out[-1]) < 100 \
                and value < 10:
            value += int(out.pop())
        out.append(f"{value}{suffix}")
    return out


def _spacing(xa: list[str], xb: list[str]) -> tuple[list[str], list[str]]:
    """Both sides as one string without spaces or apostrophes."""
    return ["".join(xa).replace("'", "")], ["".join(xb).replace("'", "")]


def same_form(a: Sequence[str], b: Sequence[str]) -> str | None:
    """Say whether two word sequences differ only in form, and how.

    Steps are tried in order (spelling, fillers, contractions, spacing); the reason names
    what had to be ignored for the two to become equal.

    Args:
        a: words as written on one side (e.g. the quote's).
        b: words on the other side (e.g. the recogniser's).

    Returns:
        ``"same"`` when identical; a comma-separated reason (``"contraction"``,
        ``"filler"``, ``"spelling"`` (``towards``/``toward``), ``"abbreviation"`` (a
        glossary form: ``St.``/``street``, ``10-4``/``104``), ``"typo"``, ``"number format"``,
        ``"hyphenation"``, ``"spacing"``, ``"case"``,
        ``"punctuation"``, ``"apostrophe"``) when they differ only in form; None when the
        words differ.

    >>> same_form(["we're"], ["we", "are"]), same_form(["ten", "four"], ["10-4"])
    ('contraction', 'number format')
    >>> same_form(["clear", "out"], ["clear", "up"]) is None
    True
    >>> same_form(["Halsted", "Ave."], ["Halsted", "avenue"]), same_form(["locaiton"], ["location"])
    ('punctuation, abbreviation', 'typo')
    """
    if list(a) == list(b):
        return "same"
    ta, tb = tokens_from_strings(a), tokens_from_strings(b)
    xa, xb = [t.text for t in ta], [t.text for t in tb]
    reasons: list[str] = []
    if xa != xb or [t.original for t in ta] != [t.original for t in tb]:
        reasons = sorted(_categories(ta) ^ _categories(tb)) or sorted(_categories(ta + tb))
    steps = (
        ("filler", lambda xs: [x for x in xs if x not in FILLERS]),
        ("spelling", lambda xs: [VARIANTS.get(x, x) for x in xs]),
        ("contraction", _contract),
        ("number format", _ordinals),
        ("abbreviation", glossary_form),
    )
    for name, step in steps:
        if xa == xb:
            break
        na, nb = step(xa), step(xb)
        if (na, nb) != (xa, xb):
            reasons.append(name)
        xa, xb = na, nb
    for name, pair in (("typo", _typos), ("spacing", _spacing)):
        if xa == xb:
            break
        na, nb = pair(xa, xb)
        if (na, nb) != (xa, xb):
            reasons.append(name)
        xa, xb = na, nb
    if xa != xb:
        return None
    return ", ".join(dict.fromkeys(reasons)) or "same"


@lru_cache(maxsize=200_000)
def phonetic_key(text: str) -> str:
    """A crude sound-alike key: first letter, then consonant classes without repeats.

    Survives some misrecognitions (``cheif``/``chief``, ``ruspond``/``respond``).

    >>> phonetic_key("respond") == phonetic_key("ruspond")
    True
    """
    if not text or not text[0].isalpha():
        return text
    classes = str.maketrans("bfpvcgjkqsxzdtlmnr", "111122222222334556")
    code = text.lower().translate(classes)
    key = [text[0].lower()]
    last = code[0]
    for ch in code[1:]:
        if ch.isdigit() and ch != last:
            key.append(ch)
        last = ch if ch.isdigit() or ch not in "hw" else last
    return "".join(key)


def name_heard_as_words(words: Sequence[str], start: int, end: int, heard: Sequence[str]) -> bool:
    """Whether ``words[start:end]`` are a name (with function words beside it) that a
    recogniser heard as common words: a name it does not know comes out as words that fit
    its sound ("at Laramie" as "that layering me"), which says nothing against the quote.
    Another name heard there ("Dallas" for "Texas") does.

    >>> quote = "Block Lake Street at Laramie for me.".split()
    >>> name_heard_as_words(quote, 3, 5, ["that", "layering", "me"])
    True
    >>> name_heard_as_words(quote, 3, 5, ["at", "Larry"])
    False
    """
    names = [w for w in range(start, end) if is_name(words, w)]
    rest = [weight(strip_edges(words[w]).lower()) for w in range(start, end) if w not in names]
    return bool(names) and all(x < 1 for x in rest) and not any(strip_edges(w)[:1].isupper()
                                                                 for w in heard)
