"""Help articles: front matter (the ties to product behaviour) and header-path chunks. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterator

import msgspec
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from usertrail.core.text import humanize
from usertrail.errors import ConfigError
from usertrail.model.config import ProjectConfig
from usertrail.retrieval.model import Article, Chunk

MAX_CHUNK_CHARS = 1200
_HEADER = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


class ArticleMeta(BaseModel):
    """Front matter. Strict, so a misspelt key is an error, not a silently lost tie."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str | None = None
    pages: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    funnels: tuple[str, ...] = ()


def parse_article(text: str, slug: str) -> tuple[Article, tuple[Chunk, ...]]:
    """Markdown with optional `---` YAML front matter -> the article and its chunks."""
    meta, body = split_front_matter(text, slug)
    title = meta.title or _first_h1(body) or slug.replace("-", " ").capitalize()
    article = Article(
        slug=slug,
        title=title,
        pages=meta.pages,
        features=meta.features,
        errors=meta.errors,
        funnels=meta.funnels,
    )
    return article, chunk_markdown(body, slug, title)


def with_feature_names(article: Article, config: ProjectConfig) -> Article:
    """An article may name a feature by its project-file key (`report_export`); events carry
    the readable name ("Report export"), so both are kept."""
    names = [
        spec.name or humanize(key)
        for key, spec in config.features.items()
        if key in article.features
    ]
    features = tuple(dict.fromkeys((*article.features, *names)))
    return msgspec.structs.replace(article, features=features)


def split_front_matter(text: str, source: str) -> tuple[ArticleMeta, str]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return ArticleMeta(), text
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    if end is None:
        raise ConfigError(f"{source}: front matter opened with '---' is never closed")
    try:
        data = yaml.safe_load("\n".join(lines[1:end])) or {}
        return ArticleMeta.model_validate(data), "\n".join(lines[end + 1 :])
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{source}: bad front matter: {exc}") from exc


def chunk_markdown(body: str, slug: str, title: str) -> tuple[Chunk, ...]:
    """One chunk per section; its title is the header path under the article title."""
    chunks: list[Chunk] = []
    for path, text in _sections(body):
        heading = " > ".join([title, *[h for h in path if h != title]])
        for piece in _bounded(text):
            chunks.append(
                Chunk(id=f"{slug}#{len(chunks)}", article=slug, title=heading, text=piece)
            )
    return tuple(chunks)


def _sections(body: str) -> Iterator[tuple[tuple[str, ...], str]]:
    """(header path, text) per section, headers inside code fences ignored."""
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    fenced = False
    for line in body.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        header = None if fenced else _HEADER.match(line)
        if header is None:
            lines.append(line)
            continue
        yield tuple(h for _, h in path), "\n".join(lines).strip()
        level = len(header.group(1))
        path = [*[(lv, h) for lv, h in path if lv < level], (level, header.group(2))]
        lines = []
    yield tuple(h for _, h in path), "\n".join(lines).strip()


def _bounded(text: str) -> list[str]:
    """A long section split at paragraph breaks; an empty one dropped."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if pieces and len(pieces[-1]) + len(paragraph) + 2 <= MAX_CHUNK_CHARS:
            pieces[-1] += "\n\n" + paragraph
        else:
            pieces.append(paragraph)
    return pieces


def _first_h1(body: str) -> str | None:
    for line in body.splitlines():
        if (m := _HEADER.match(line)) and len(m.group(1)) == 1:
            return m.group(2)
    return None
