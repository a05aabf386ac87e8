"""The docs index: SQLite FTS5 (BM25, Porter stemming) in memory, built from a folder.

Why FTS5 rather than `bm25s`: it ships with Python's sqlite3 (no new dependency, no numpy),
stems English, weights the title column above the body, and a few hundred chunks index in
milliseconds at startup.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from usertrail.errors import ConfigError
from usertrail.model.config import ProjectConfig
from usertrail.retrieval.articles import parse_article, with_feature_names
from usertrail.retrieval.lexicon import common_words, english_words
from usertrail.retrieval.model import Article, Chunk
from usertrail.retrieval.text import dedupe, norm, terms, words
from usertrail.retrieval.typos import correction

_BOLD = re.compile(r"\*\*([^*\n]{1,60})\*\*")
TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
CANDIDATES = 50


class HelpIndex:
    """Articles and their chunks, searchable by words. Read-only after construction."""

    def __init__(self, articles: Sequence[Article], chunks: Sequence[Chunk]) -> None:
        self.articles = {a.slug: a for a in articles}
        self.chunks = {c.id: c for c in chunks}
        self._lock = threading.Lock()  # one connection, shared by request threads
        self._holders: dict[str, frozenset[str]] = {}
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE chunks USING fts5("
            "chunk_id UNINDEXED, title, body, tokenize='porter unicode61')"
        )
        self._db.executemany(
            "INSERT INTO chunks (chunk_id, title, body) VALUES (?, ?, ?)",
            [(c.id, c.title, c.text) for c in chunks],
        )
        self.reference_score = self._title_strength()
        self.vocabulary = vocabulary(chunks)
        self.real_words = english_words()
        self.common_words = common_words()
        self.controls = controls(chunks)

    def spelled(self, query_words: Sequence[str]) -> list[str]:
        """The words, each one the index does not hold (even stemmed) and English does not
        know read as its nearest word that the index holds: "permisions" -> "permissions"."""
        return [
            w if self.matching_all([w]) else (correction(w, self.vocabulary, self.real_words) or w)
            for w in query_words
        ]

    def search(self, words: Sequence[str], limit: int = CANDIDATES) -> list[tuple[str, float]]:
        """(chunk id, BM25 score: higher is better), best first; any word may match."""
        query = " OR ".join(f'"{w}"' for w in dedupe(w.replace('"', "") for w in words) if w)
        if not query:
            return []
        sql = (
            "SELECT chunk_id, -bm25(chunks, 0, ?, ?) AS score FROM chunks "
            "WHERE chunks MATCH ? ORDER BY score DESC, chunk_id LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, (TITLE_WEIGHT, BODY_WEIGHT, query, limit)).fetchall()
        return [(str(cid), float(score)) for cid, score in rows]

    def matching_all(self, words: Sequence[str]) -> set[str]:
        """Chunk ids whose text or title contains every one of the words (stemmed)."""
        query = " AND ".join(f'"{w}"' for w in dedupe(w.replace('"', "") for w in words) if w)
        if not query:
            return set()
        with self._lock:
            rows = self._db.execute("SELECT chunk_id FROM chunks WHERE chunks MATCH ?", (query,))
            return {str(cid) for (cid,) in rows.fetchall()}

    def articles_with(self, word: str) -> frozenset[str]:
        """The articles that hold the word somewhere (stemmed), cached: the index is read-only."""
        if word not in self._holders:
            chunks = self.matching_all([word])
            self._holders[word] = frozenset(self.chunks[c].article for c in chunks)
        return self._holders[word]

    def _title_strength(self) -> float:
        """The median top score of each article's title as a query: how strongly a question
        that names its topic outright matches (`fusion.behaviour_share`)."""
        tops = [hits[0][1] for a in self.articles.values() if (hits := self.search(terms(a.title)))]
        return statistics.median(tops) if tops else 0.0

    def close(self) -> None:
        self._db.close()


def vocabulary(chunks: Sequence[Chunk]) -> dict[str, int]:
    """Every word of the chunks (titles and text) and how many chunks hold it."""
    counts: dict[str, int] = {}
    for chunk in chunks:
        for word in set(words(f"{chunk.title} {chunk.text}")):
            counts[word] = counts.get(word, 0) + 1
    return counts


def controls(chunks: Sequence[Chunk]) -> dict[str, frozenset[str]]:
    """The product's controls the articles name, in bold as help articles do ("click
    **Sync now**"), normalized, each with the articles that name it."""
    named: dict[str, set[str]] = {}
    for chunk in chunks:
        for label in _BOLD.findall(chunk.text):
            if key := norm(label):
                named.setdefault(key, set()).add(chunk.article)
    return {key: frozenset(slugs) for key, slugs in named.items()}


def load_help_index(folder: Path, config: ProjectConfig | None = None) -> HelpIndex:
    """Every `*.md` under the folder (sorted, so ids are stable). A bad article is an error.
    `config`: the project's, so articles may name features by their key."""
    if not folder.is_dir():
        raise ConfigError(f"help_docs: {folder} is not a folder")
    articles: list[Article] = []
    chunks: list[Chunk] = []
    for path in sorted(folder.rglob("*.md")):
        slug = path.relative_to(folder).with_suffix("").as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read help article {path}: {exc}") from exc
        article, parts = parse_article(text, slug)
        articles.append(with_feature_names(article, config) if config else article)
        chunks.extend(parts)
    return HelpIndex(articles, chunks)


def help_folder(project_file: Path | None, help_docs: str | None) -> Path | None:
    """`help_docs` is relative to the project file that names it."""
    if not help_docs:
        return None
    base = project_file.parent if project_file else Path.cwd()
    return (base / help_docs).resolve()


ProjectSource = tuple[Path | None, ProjectConfig]  # (the project file, its config)


def project_indexes(
    default: ProjectSource, projects: Mapping[str, ProjectSource]
) -> Callable[[str], HelpIndex | None]:
    """Built once at startup: each project's help index, by project id (`None`: no help_docs).
    Projects without an entry of their own use the deployment's project file."""
    built = {pid: _index_of(*source) for pid, source in projects.items()}
    fallback = _index_of(*default)
    return lambda project_id: built.get(project_id, fallback)


def _index_of(project_file: Path | None, config: ProjectConfig) -> HelpIndex | None:
    folder = help_folder(project_file, config.help_docs)
    return load_help_index(folder, config) if folder else None
