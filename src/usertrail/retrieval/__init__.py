"""Behaviour-aware help retrieval: what the user did picks the right help article.

Pure parts (articles, query, signals, fusion, prompt, evaluation metrics) are plain functions
over typed values; the index (SQLite FTS5), the optional embedder and the LLM client are the
edges; `service` is the async shell the web and MCP layers call.
"""
