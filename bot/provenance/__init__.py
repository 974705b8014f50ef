"""Marked as made by AI: every video the bot delivers carries signed Content Credentials
(C2PA), made in the core from the final file (`signing.py`), so the GPU workers hold no key;
`verify.py` reads them back for `i2vbot verify`. The visible label and the plain MP4 tags are
drawn and written on the worker (engine/marks.py); the core only says which label.
"""
