"""Put python/ on sys.path so tests can `from gatec import reference`."""
import os
import sys

_PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
if _PYTHON_DIR not in sys.path:
    sys.path.insert(0, _PYTHON_DIR)
