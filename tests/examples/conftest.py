from tests.reader_site import server

__all__ = ["server"]  # a module-scoped live server with a known user (tests/reader_site.py)
