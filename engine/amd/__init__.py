"""Answering-machine detection on the callee's audio: streaming detector, tools, baseline.

The engine's entry points: `load_default_detector()` for a detector with the shipped model and
fingerprints, `engine.amd.detector.StreamingDetector` / `Decision`, and
`engine.amd.source.RawTailer` to read the `.r8` file that `uuid_record` writes.
"""

from __future__ import annotations

import functools
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[2] / "amd_models"
MODEL_FILE = "amd_classifier.joblib"
FINGERPRINT_FILE = "fingerprints/known.npz"


@functools.lru_cache(maxsize=4)
def load_models(models_dir: Path = MODELS_DIR):  # type: ignore[no-untyped-def]
    """(AmdModel, FingerprintDB or None) from a models folder, loaded once per folder."""
    from engine.amd.classifier import AmdModel
    from engine.amd.fingerprint import FingerprintDB

    model_path, db_path = models_dir / MODEL_FILE, models_dir / FINGERPRINT_FILE
    if not model_path.exists():
        raise FileNotFoundError(f"{model_path}: no AMD model; run `dialer amd train`")
    db = FingerprintDB.load(db_path) if db_path.exists() else None
    return AmdModel.load(model_path), db


def load_default_detector(models_dir: str | Path | None = None, budget_s: float = 3.0):  # type: ignore[no-untyped-def]
    """A fresh StreamingDetector (one per call) sharing the model and fingerprints loaded once."""
    from engine.amd.detector import StreamingDetector

    model, db = load_models(Path(models_dir) if models_dir else MODELS_DIR)
    return StreamingDetector(model=model, fingerprints=db, budget_s=budget_s)
