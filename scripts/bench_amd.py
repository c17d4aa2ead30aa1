#!/usr/bin/env python3
"""How many calls one core can screen for answering machines in real time, and memory per call.

Streams are fed round-robin, one 20 ms frame each per tick, as the engine would, using the
shipped model and fingerprints. "Worst case" keeps every stream undecided for the whole budget
(thresholds that never fire), so the whole pipeline runs on every frame; "typical" lets each
stream stop at its own decision, on held-out corpus clips. Prints the figures.

    .venv/bin/python scripts/bench_amd.py [--streams 200] [--clips 60] [--models amd_models]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from engine.amd import MODELS_DIR, load_models  # noqa: E402
from engine.amd.classifier import Thresholds  # noqa: E402
from engine.amd.corpus import generate  # noqa: E402
from engine.amd.detector import StreamingDetector  # noqa: E402
from engine.amd.evaluate import labelled_files  # noqa: E402
from engine.amd.frames import FRAME_MS, split_frames  # noqa: E402
from engine.amd.source import read_audio  # noqa: E402


def clips(count: int) -> list[np.ndarray]:
    with tempfile.TemporaryDirectory() as folder:
        generate(folder, 99, count, "test")
        items, _ = labelled_files(Path(folder) / "test")
        return [np.array(list(split_frames(read_audio(item.path)))) for item in items]


def run_round_robin(detectors: list[StreamingDetector], audio: list[np.ndarray], ticks: int) -> tuple[float, int]:
    """CPU seconds to feed `ticks` frames to every stream still undecided; frames fed."""
    fed = 0
    start = time.process_time()
    for tick in range(ticks):
        for detector, frames in zip(detectors, audio):
            if detector.decision is None and tick < len(frames):
                detector.feed(frames[tick])
                fed += 1
    return time.process_time() - start, fed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--clips", type=int, default=60)
    parser.add_argument("--models", type=Path, default=MODELS_DIR, help="folder with the model and fingerprints")
    args = parser.parse_args()
    model, db = load_models(args.models)
    never = dataclasses.replace(model, thresholds=Thresholds(machine=2.0, human=-1.0, budget_machine=2.0))
    never._compiled = None
    audio = clips(args.clips)
    streams = [audio[i % len(audio)] for i in range(args.streams)]
    ticks = 3000 // FRAME_MS

    figures = {}
    for name, chosen in (("worst case (never decides early)", never), ("typical (stops at its decision)", model)):
        runs = []
        for _ in range(3):
            detectors = [StreamingDetector(chosen, db, budget_s=3.0) for _ in streams]
            cpu, fed = run_round_robin(detectors, streams, ticks)
            runs.append((cpu, fed))
        cpu, fed = min(runs)
        ms_per_audio_second = cpu * 1000 / (fed * FRAME_MS / 1000)
        figures[name] = ms_per_audio_second
        print(f"{name}: {args.streams} streams, {fed} frames, CPU {cpu:.2f} s (best of 3) -> "
              f"{ms_per_audio_second:.2f} ms CPU per second of audio -> "
              f"{1000 / ms_per_audio_second:.0f} concurrent real-time streams per core")

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    detectors = [StreamingDetector(never, db, budget_s=3.0) for _ in streams]
    run_round_robin(detectors, streams, ticks)
    per_stream = (tracemalloc.get_traced_memory()[0] - before) / len(detectors)
    tracemalloc.stop()
    print(f"memory per stream after 3 s undecided (tracemalloc): {per_stream / 1024:.1f} KiB")
    sizes = [len(d._matcher._votes) for d in detectors if d._matcher is not None]
    if sizes:
        print(f"fingerprint vote table entries per stream: median {statistics.median(sizes):.0f}, max {max(sizes)}")


if __name__ == "__main__":
    main()
