"""Words as they are said and heard: numbers written as Whisper writes them, and the
differences the audio cannot tell apart (homophones, digits said another way, names heard
as common words).

The comparison of a quote with what was heard (``text.py``) and the judging of a quote on
its audio (``adjudicate/``) both use these small steps; each has a doctest. Nothing here
reads files or models.
"""

from __future__ import annotations

from collections.abc import Sequence

APOSTROPHES = {"\u2019": "U+2019", "\u2018": "U+2018", "\u02bc": "U+02BC", "`": "U+0060",
               "\u00b4": "U+00B4", "\u2032": "U+2032"}
"""Characters written for an apostrophe, mapped to the name used in a change note."""
HYPHENS = {"\u2010": "U+2010", "\u2011": "U+2011", "\u2012": "U+2012", "\u2013": "U+2013",
           "\u2212": "U+2212", "\u00ad": "U+00AD"}
"""Characters written for a hyphen inside a word (the en dash included)."""


def fix_characters(word: str) -> tuple[str, list[str]]:
    """Map apostrophe and hyphen variants to ASCII; say which ones were seen."""
    changes = []
    for table, kind, ascii_char in ((APOSTROPHES, "apostrophe", "'"), (HYPHENS, "hyphen", "-")):
        for char, name in table.items():
            if char in word:
                word = word.replace(char, ascii_char)
                changes.append(f"{kind} {name}")
    return word, changes


# ---------------------------------------------------------------- numbers as Whisper writes them


def strip_edges(word: str) -> str:
    """A word without the punctuation and quotation marks at its edges.

    >>> strip_edges('"Ten-four,'), strip_edges("(we're)")
    ('Ten-four', "we're")
    """
    return word.strip(".,!?;:\"'()[]")


_UNIT_NAMES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TEN_NAMES = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fifth": 5, "eighth": 8, "ninth": 9,
             "twelfth": 12}


def number_name(text: str) -> str | None:
    """The one word a number is spoken as (``12`` -> ``twelve``, ``40`` -> ``forty``); None
    for numbers spoken as more than one word.

    >>> number_name("12"), number_name("33")
    ('twelve', None)
    """
    if not text.isdigit():
        return None
    value = int(text)
    if value < len(_UNIT_NAMES):
        return _UNIT_NAMES[value]
    if value < 100 and value % 10 == 0:
        return _TEN_NAMES[value // 10]
    return None


def spelled_number(word: str) -> tuple[int, str] | None:
    """A spelled number word (``thirty-three``, ``sixty-third``) as (value, ordinal suffix).

    >>> spelled_number("sixty-third")
    (63, 'rd')
    """
    parts = word.lower().split("-")
    value, suffix = 0, ""
    for k, part in enumerate(parts):
        ordinal = _ORDINALS.get(part)
        if ordinal is None and part.endswith("th") and part[:-2] in _UNIT_NAMES + _TEN_NAMES[2:]:
            stem = part[:-2]
            ordinal = _UNIT_NAMES.index(stem) if stem in _UNIT_NAMES else 10 * _TEN_NAMES.index(stem)
        if ordinal is None and part.endswith("ieth") and part[:-4] + "y" in _TEN_NAMES:
            ordinal = 10 * _TEN_NAMES.index(part[:-4] + "y")
        if ordinal is not None and k == len(parts) - 1:
            value += ordinal
            suffix = {1: "st", 2: "nd", 3: "rd"}.get(ordinal % 10 if ordinal % 100 // 10 != 1 else 0,
                                                     "th")
        elif part in _UNIT_NAMES:
            value += _UNIT_NAMES.index(part)
        elif part in _TEN_NAMES[2:]:
            value += 10 * _TEN_NAMES.index(part)
        else:
            return None
    return value, suffix


def render_numbers(words: list[str]) -> tuple[list[str], list[int]]:
    """Words as Whisper writes them: spelled numbers as digits (``Eight twelve`` as ``812``,
    ``ten four`` as ``10-4``), so compared texts share the recogniser's style.

    Returns:
        (rendered words, for each input word the index of the rendered word it went into).

    Typographic apostrophes and hyphens become ASCII, as Whisper writes them: scored as
    published, ``hit‑and‑run`` (U+2011) costs the quote tokens no speaker said.

    >>> render_numbers("Eight twelve, we’re on".split())
    (['812,', "we're", 'on'], [0, 0, 1, 2])
    """
    out: list[str] = []
    owner: list[int] = []
    run: list[tuple[int, str]] = []
    for word in [fix_characters(w)[0] for w in words] + [""]:
        core = strip_edges(word)
        got = spelled_number(core) if core else None
        if run and core.lower() == "hundred" and run[-1][1][-1:] not in ",.;:!?":
            got = (100, "*")  # "fifty-one hundred" is written 5100
        if got is not None and (not run or run[-1][1][-1:] not in ",.;:!?"):
            run.append((len(owner), word))
            owner.append(-1)
            continue
        if run:
            values = []
            for _, w in run:
                if strip_edges(w).lower() == "hundred" and values:
                    values[-1] = (values[-1][0] * 100, values[-1][1])
                else:
                    values.append(spelled_number(strip_edges(w)))
            digits = "".join(f"{v}{sfx}" for v, sfx in values)
            if [v for v, _ in values] == [10, 4]:
                digits = "10-4"
            elif len(values) == 2 and values[0][0] % 10 == 0 and 20 <= values[0][0] < 100 \
                    and values[1][0] < 10:
                digits = f"{values[0][0] + values[1][0]}{values[1][1]}"
            if len(run) == 1 and (values[0][0] < 10 and not values[0][1]
                                  or strip_edges(run[0][1]).lower() in ("first", "second")):
                digits = strip_edges(run[0][1])
            tail = run[-1][1][len(run[-1][1].rstrip(".,;:!?")):]
            for i, _ in run:
                owner[i] = len(out)
            out.append(digits + tail)
            run = []
            if got is not None:
                run.append((len(owner), word))
                owner.append(-1)
                continue
        if word:
            owner.append(len(out))
            out.append(word)
    return out, owner


# ---------------------------------------------------------------- what the audio can tell apart


HOMOPHONES = tuple(frozenset(g.split()) for g in (
    "to too two", "there their they're", "for four", "no know", "here hear", "its it's",
    "your you're", "whose who's", "by buy bye", "one won", "new knew", "right write",
    "whether weather", "wait weight", "see sea", "break brake"))
"""Groups of words said alike: audio cannot tell one from another."""


def same_sound(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two different word lists differ only by homophones (``too``/``to``): the
    audio cannot tell them apart, so neither supports nor contradicts a quote's spelling.

    >>> same_sound(["going", "too."], ["going", "to"]), same_sound(["to"], ["to"])
    (True, False)
    """
    a = [strip_edges(w).lower() for w in a if strip_edges(w)]
    b = [strip_edges(w).lower() for w in b if strip_edges(w)]
    return len(a) == len(b) and a != b and all(
        x == y or any(x in g and y in g for g in HOMOPHONES) for x, y in zip(a, b))


def same_digits(a: list[str], b: list[str]) -> bool:
    """Whether two word lists read the same once numbers are written as digits.

    >>> same_digits(["Eight", "twelve,"], ["812"]), same_digits(["eighth"], ["8th"])
    (True, True)
    """
    def key(words: list[str]) -> str:
        return "".join(render_numbers(words)[0]).lower().replace("-", "").replace(",", "")
    return key(a) == key(b)


def all_numbers(words: Sequence[str]) -> bool:
    """Whether words are all numbers, spelled or in digits (``Nine thirty-three``, ``833``).

    >>> all_numbers(["Nine", "thirty-three,"]), all_numbers(["10-4"]), all_numbers(["Nine", "units"])
    (True, True, False)
    """
    cores = [strip_edges(w) for w in words if strip_edges(w)]
    return bool(cores) and all(spelled_number(c) is not None or c.replace("-", "").isdigit()
                               for c in cores)


def digit_variants(token: str) -> list[str]:
    """A digits token with one digit changed, every way, its leading space kept.

    >>> digit_variants(" 8")
    [' 0', ' 1', ' 2', ' 3', ' 4', ' 5', ' 6', ' 7', ' 9']
    >>> len(digit_variants("43"))
    18
    """
    lead = token[:len(token) - len(token.lstrip())]
    core = token.strip()
    return [lead + core[:i] + d + core[i + 1:] for i in range(len(core))
            for d in "0123456789" if d != core[i]]


def is_name(words: Sequence[str], w: int) -> bool:
    """Whether word ``w`` is written as a name: capitalised inside a sentence, not ``I``
    and not a number (``Laramie``, ``Mount Sinai``).

    >>> words = "Going to Mount Sinai: Transport now.".split()
    >>> [w for w in words if is_name(words, words.index(w))]
    ['Mount', 'Sinai:']
    """
    word = strip_edges(words[w])
    after_stop = w == 0 or words[w - 1].rstrip("\"')\u201d\u2019")[-1:] in ".?!:;"
    return (word[:1].isupper() and not after_stop and word.split("'")[0] != "I"
            and not all_numbers([word]))
