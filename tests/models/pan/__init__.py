"""A third video model, defined here and nowhere else: it shows that a model is one folder."""
