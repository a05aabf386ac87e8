"""The ASGI app: thin endpoints that parse, call one service, and map the result."""
