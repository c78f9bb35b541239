"""python -m jobcore: the command line, one module per capability (see main.py)."""
