"""Relief Hub: an operational picture of cross-border emergency assistance."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DATA_DIR = REPO_DIR / "data"
QUERIES_DIR = REPO_DIR / "queries"
