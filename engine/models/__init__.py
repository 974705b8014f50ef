"""One folder a video model: its card (card.py, plain data), its engine (engine.py, a
subclass of engine.base.Engine), its tiny random-weight builder (tiny.py) and whatever else
only it uses. engine.spec.cards finds every folder here; importing this package, or a card,
never imports torch."""
