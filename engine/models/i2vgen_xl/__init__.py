"""I2VGen-XL through diffusers' I2VGenXLPipeline, with its speed mode (fast.py and the cuts
it combines: solvers.py, step_cuts.py, deep_cache.py, attention_gate.py)."""
