"""The browser fixtures (`chromium`, `page`, `screenshot`) live in tests/conftest.py, shared by every browser test."""
