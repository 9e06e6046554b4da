"""`slodrift demo`: the whole loop of slodrift, live, on one machine (see run.py)."""
