"""Synthetic databases to measure: built once per scale and seed, reused while their code is unchanged."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from reliefhub import DATA_DIR, PACKAGE_DIR, REPO_DIR, generate, migrations

CACHE_DIR = REPO_DIR / "bench" / "cache"


def code_digest() -> str:
    """Changes when what a cached database was built from changes."""
    import hashlib

    digest = hashlib.sha256()
    for path in (
        *sorted(migrations.MIGRATIONS_DIR.glob("*.sql")),
        PACKAGE_DIR / "generate.py",
        PACKAGE_DIR / "loader.py",
        PACKAGE_DIR / "validation.py",
        DATA_DIR / "countries.csv",
        DATA_DIR / "materials.csv",
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def cached_database(scale: int, seed: int, cache_dir: Path = CACHE_DIR, say=print) -> tuple[Path, Path]:
    """(database, its source CSV folder) for a scale, built once and reused while the code is unchanged."""
    stem = f"synthetic-{scale}-seed{seed}-{code_digest()}"
    db_path = Path(cache_dir) / f"{stem}.duckdb"
    sources = Path(cache_dir) / f"{stem}-csv"
    if db_path.exists() and (sources / "shipments.csv").exists():
        return db_path, sources
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    for old in Path(cache_dir).glob(f"synthetic-{scale}-seed{seed}-*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    say(f"  generating {scale:,} shipments (seed {seed}) into {db_path} ...")
    started = time.perf_counter()
    generate.generate(scale, db_path, seed, keep_sources=sources)
    say(f"  generated in {time.perf_counter() - started:.1f} s")
    return db_path, sources


def working_copy(db_path: Path, folder: Path, name: str) -> Path:
    """A private copy, so a run never changes the cached database."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    for suffix in ("", ".wal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(db_path, target)
    return target
