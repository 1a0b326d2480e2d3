"""The policy file: its model (`model.py`), its loader (`load.py`) and which file is read
(`paths.py`). Import from those modules: this package imports nothing, so reading a policy's
path stays free of pydantic."""
