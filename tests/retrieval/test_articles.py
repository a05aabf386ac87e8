"""Help articles: front matter ties, header-path chunks."""

from __future__ import annotations

import pytest

from usertrail.errors import ConfigError
from usertrail.model.config import ProjectConfig
from usertrail.retrieval.articles import chunk_markdown, parse_article, with_feature_names

ARTICLE = """---
title: Exporting a report
pages: [Report]
features: [report_export]
errors: [E42]
---
# Exporting a report

Export a report when you need its numbers elsewhere.

## Formats

CSV and PDF.

### PDF

The report as it looks on screen.

```
# not a header: inside a code fence
```

## Limits

A million rows.
"""


def test_front_matter_declares_the_ties_to_product_behaviour() -> None:
    article, _ = parse_article(ARTICLE, "exporting")
    assert (article.slug, article.title) == ("exporting", "Exporting a report")
    assert (article.pages, article.features, article.errors) == (
        ("Report",),
        ("report_export",),
        ("E42",),
    )


def test_each_section_is_a_chunk_titled_with_its_header_path() -> None:
    _, chunks = parse_article(ARTICLE, "exporting")
    assert [c.title for c in chunks] == [
        "Exporting a report",
        "Exporting a report > Formats",
        "Exporting a report > Formats > PDF",
        "Exporting a report > Limits",
    ]
    assert [c.id for c in chunks] == [f"exporting#{i}" for i in range(4)]
    assert chunks[2].text.startswith("The report as it looks on screen.")
    assert "# not a header" in chunks[2].text


def test_an_article_without_front_matter_takes_its_title_from_the_first_heading() -> None:
    article, chunks = parse_article("# Billing help\n\nPlans.\n", "billing")
    assert article.title == "Billing help"
    assert article.pages == ()
    assert [c.text for c in chunks] == ["Plans."]


def test_a_long_section_is_split_at_paragraphs() -> None:
    body = "# T\n\n" + "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(10))
    chunks = chunk_markdown(body, "t", "T")
    assert len(chunks) > 1
    assert all(len(c.text) <= 1200 for c in chunks)
    assert {c.title for c in chunks} == {"T"}


def test_a_misspelt_front_matter_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match="page"):
        parse_article("---\npage: [Billing]\n---\n# T\n", "t")


def test_an_unclosed_front_matter_is_an_error() -> None:
    with pytest.raises(ConfigError, match="never closed"):
        parse_article("---\ntitle: T\n# T\n", "t")


def test_a_feature_named_by_its_key_also_carries_its_readable_name() -> None:
    config = ProjectConfig.model_validate(
        {"features": {"report_export": {}, "feature_used": {"name": "AI summaries"}}}
    )
    article, _ = parse_article("---\nfeatures: [report_export, feature_used]\n---\n# T\n", "t")
    assert with_feature_names(article, config).features == (
        "report_export",
        "feature_used",
        "Report export",
        "AI summaries",
    )
