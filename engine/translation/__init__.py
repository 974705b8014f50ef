"""Prompts in any language for models that read English only: the language detected
(languages.py), then translated by a small open MarianMT model (translator.py); a tiny
fitted one for tests (tiny.py)."""
