"""The outside world behind the ports: SQL storage, buses, webhooks, SMTP, files."""
