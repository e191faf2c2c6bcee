"""The policy knowledge base: question/answer entries written from public policy texts (nlu/knowledge/*.yml), and
the search that finds the entry a citizen's question asks for.

Two signals, each measured alone and together on development data by scripts/evaluate_knowledge.py:
- a linear classifier (one class per entry) over character 1-3-grams and jieba words of every phrasing and every
  sentence of the answer: it generalises to wordings no phrasing has (typos, other word orders, partial words);
- BM25 over jieba words, one index of the phrasings and one of the answers, each divided by the query's own weight
  (the IDF of its words; a word the knowledge base has never seen weighs as much as its rarest word): how much of
  what the citizen asked the entry covers, which keeps questions about other matters below the thresholds.
The entry's score is the classifier's margin plus LEXICAL_WEIGHT times the BM25 coverage. Below ANSWER_THRESHOLD
the citizen gets the closest questions to choose from, below SUGGEST_THRESHOLD an honest "I don't know".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jieba
import numpy as np
import yaml
from rank_bm25 import BM25Okapi
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = ROOT / "nlu" / "knowledge"
USER_DICT = ROOT / "nlu" / "generated" / "jieba" / "userdict.txt"

# Chosen with scripts/evaluate_knowledge.py on development data only (leave-one-out phrasings of the entries and
# tests/nlu/dev/out_of_domain.yml), never on the held-out paraphrases: at or above ANSWER the best entry is given;
# between SUGGEST and ANSWER the closest questions are offered; below SUGGEST the citizen is told we do not know.
ANSWER_THRESHOLD = 0.6
SUGGEST_THRESHOLD = -0.3
LEXICAL_WEIGHT = 0.5

# Particles and filler that say nothing about which policy is meant.
_STOPWORDS = frozenset({
    "的", "了", "吗", "呢", "啊", "吧", "呀", "嘛", "哦", "哈", "么", "啦", "是", "在", "我", "你", "您", "他", "她",
    "我们", "你们", "请问", "请", "想", "问", "问下", "问一下", "一下", "下", "这个", "那个", "这", "那", "有", "和",
    "与", "及", "或", "就", "也", "都", "还", "又", "会", "能", "可以", "要", "需要", "呗", "一个", "个", "些", "之",
    "其", "被", "把", "给", "对", "从", "到", "于", "为", "让", "得", "地", "着", "过", "小助手", "助手", "你好",
    "您好", "谢谢",
})
_WORD = re.compile(r"[\w\u4e00-\u9fff]+")
_SENTENCE_END = re.compile(r"[。；！？]")


@dataclass(frozen=True)
class Source:
    issuer: str
    title: str
    date: date
    number: str | None = None

    @property
    def citation(self) -> str:
        """e.g. 国家税务总局《……》（税总发〔2020〕14号）"""
        return f"{self.issuer}{self.title}" + (f"（{self.number}）" if self.number else "")


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    question: str
    alternatives: tuple[str, ...]
    answer: str
    source: Source

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternatives)


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float  # the classifier's margin plus the weighted BM25 coverage (see the module's docstring)


@functools.lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    if USER_DICT.exists():  # entity names (cities, countries, ports, …) stay whole, as in the NLU pipeline
        tokenizer.load_userdict(str(USER_DICT))
    return tokenizer


def tokens(text: str) -> list[str]:
    words = []
    for chunk in _WORD.findall(text.lower()):
        words += [word for word in _tokenizer().lcut(chunk) if word.strip() and word not in _STOPWORDS]
    return words


def load_entries(directory: Path = KNOWLEDGE_DIR) -> list[Entry]:
    entries = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        for item in data["entries"]:
            source = item["source"]
            entries.append(Entry(
                id=item["id"], topic=data["topic"], question=item["question"].strip(),
                alternatives=tuple(text.strip() for text in item.get("alternatives", [])),
                answer=" ".join(item["answer"].split()),
                source=Source(issuer=source["issuer"], title=source["title"], date=_date(source["date"]),
                              number=source.get("number")),
            ))
    return entries


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class _Index:
    """BM25 over documents that each belong to an entry (by position); scores per entry, normalised by the query."""

    def __init__(self, documents: list[str], owners: list[int], entry_count: int) -> None:
        self._bm25 = BM25Okapi([tokens(document) for document in documents])
        self._owners = np.array(owners)
        self._entry_count = entry_count
        self._unknown_weight = max(self._bm25.idf.values())

    def scores(self, words: list[str]) -> np.ndarray:
        weight = sum(self._bm25.idf.get(word, self._unknown_weight) for word in words)
        per_entry = np.zeros(self._entry_count)
        if weight > 0:
            np.maximum.at(per_entry, self._owners, self._bm25.get_scores(words) / weight)
        return per_entry


class _Classifier:
    """One class per entry, learned from its phrasings and the sentences of its answer."""

    def __init__(self, entries: list[Entry]) -> None:
        texts, labels = [], []
        for number, entry in enumerate(entries):
            sentences = [s for s in _SENTENCE_END.split(entry.answer) if len(s) > 4]
            texts += [*entry.phrasings, *sentences]
            labels += [number] * (len(entry.phrasings) + len(sentences))
        self._features = make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
            TfidfVectorizer(analyzer=tokens, sublinear_tf=True),
        )
        self._model = LinearSVC(C=0.5).fit(self._features.fit_transform(texts), labels)

    def scores(self, question: str) -> np.ndarray:
        return self._model.decision_function(self._features.transform([question]))[0]


class KnowledgeBase:
    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self.by_id = {entry.id: entry for entry in self.entries}
        phrasings = [(phrasing, number) for number, entry in enumerate(self.entries) for phrasing in entry.phrasings]
        count = len(self.entries)
        self._phrasings = _Index([text for text, _ in phrasings], [number for _, number in phrasings], count)
        self._answers = _Index([entry.answer for entry in self.entries], list(range(count)), count)
        self._classifier = _Classifier(self.entries)

    def search(self, question: str, limit: int = 3) -> list[Match]:
        """The best entries for `question`, best first."""
        words = tokens(question)
        if not words:
            return []
        lexical = self._phrasings.scores(words) + self._answers.scores(words)
        scores = self._classifier.scores(question) + LEXICAL_WEIGHT * lexical
        best = np.argsort(-scores)[:limit]
        return [Match(self.entries[number], float(scores[number])) for number in best]


@functools.lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """Built once per action server (a few seconds for a few hundred entries; bot/action_server.py warms it)."""
    return KnowledgeBase(load_entries())
