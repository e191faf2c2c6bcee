"""Which language one message is written in: Chinese ("zh"), English ("en"), or it cannot tell (None).

The rule is deliberately simple, so that anyone can predict it (docs/english.md):
- names are left out first: a place written in Chinese inside an English sentence ("Is 罗湖 open?") or in Latin
  letters inside a Chinese one ("我想去Japan") says nothing about the language of the sentence around it;
- a message with no word left, or only chat words that Chinese users type in Latin letters too ("ok", "hi",
  "thx", "nihao"), cannot tell: the conversation keeps its language;
- otherwise it is English when its Latin-letter words outnumber its Chinese characters one and a half times, else
  Chinese: a Chinese word has about two characters, and a message mixing both is more often a Chinese speaker's
  ("check下我的vehicle transfer status": 4 words, 3 characters, Chinese), while "Do I need a 核酸 test for Japan?"
  (4 words, 2 characters) and "How do I get to Shenzhen Bay?" are English.
Letters of other alphabets (Cyrillic, Hangul…) count as foreign words: an English reply suits such a traveller better
than a Chinese one. Codes are not words: a plate number, a credit code or an e-mail address typed into a Chinese form
leaves the conversation Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

CHINESE = "zh"
ENGLISH = "en"
LANGUAGES = (CHINESE, ENGLISH)

# CJK Unified Ideographs, Extension A, Compatibility Ideographs.
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Pieces of text between spaces, Han characters and punctuation; dots, @, /, _, hyphens and apostrophes hold a piece
# together, so an e-mail address, a web address or a code stays one piece.
PIECE = re.compile(r"[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff,;:!?()\[\]{}<>\"“”‘，。；：！？（）【】《》、~…]+")
# A word: two letters or more (any alphabet but Han), with inner apostrophes or hyphens (what's, e-visa). Pieces with
# digits (a plate 浙A3D7F2, a credit code, an ID number), addresses and single letters (A股) are not words.
WORD = re.compile(r"[^\W\d_]{2,}(?:['’\-][^\W\d_]+)*")
# Typed in Latin letters by Chinese users as much as by foreigners (nlu/data/general.yml has them): alone they
# do not say which language the conversation is in.
CHAT_WORDS = frozenset({
    "ok", "okay", "okk", "k", "kk", "hi", "hii", "hello", "hey", "hiya", "yes", "yeah", "yep", "no", "nope", "sure",
    "thx", "thanks", "thank", "you", "u", "ty", "tks", "bye", "byebye", "goodbye", "bb", "cya", "good", "nice",
    "cool", "hmm", "hm", "em", "emm", "ha", "haha", "hehe", "lol", "sorry", "pls", "plz", "please", "wow", "oh",
    "ah", "oops", "nihao", "xiexie", "zaijian", "haode", "en", "ing",
})


def _without(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def detect(text: str, name_spans: Iterable[tuple[int, int]] = ()) -> str | None:
    """The message's language, or None when it cannot tell. `name_spans`: (start, end) of the names (entities)
    found in the text."""
    rest = _without(text, name_spans)
    # Full-width letters (ｈｅｌｌｏ) are Latin letters; NFKC keeps Han characters as they are.
    rest = unicodedata.normalize("NFKC", rest)
    han = len(HAN.findall(rest))
    pieces = (piece.strip(".'’-") for piece in PIECE.findall(rest))
    words = [piece.casefold() for piece in pieces if WORD.fullmatch(piece)]
    if not han and all(word in CHAT_WORDS for word in words):
        return None
    return ENGLISH if 2 * len(words) > 3 * han else CHINESE
