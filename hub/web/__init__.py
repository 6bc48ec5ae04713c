"""The dashboard: a Jinja shell page plus small vanilla JS modules that call the public API."""
