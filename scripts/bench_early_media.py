"""How many ringing calls one core can watch for network announcements in real time.

Feeds G.711 ringback (425 Hz, 1 s on / 4 s off, with line noise) through
``engine.amd.early_media.watch_early_media`` with the shipped fingerprints, as the engine does
for every call that rings with early media, and prints the median CPU time (process time, so
other work on a shared machine counts less) over a few runs:

    .venv/bin/python scripts/bench_early_media.py --seconds 60 --runs 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from engine.amd.corpus import make_noise, silence, tone
from engine.amd.early_media import early_media_detector, watch_early_media
from engine.amd.frames import g711_roundtrip, split_frames, to_int16


def ringback(seconds: int) -> list[np.ndarray]:
    cycle = np.concatenate([tone(425, 1000), silence(4000)])
    signal = np.tile(cycle, seconds // 5 + 1)[: seconds * 8000]
    signal = signal + make_noise("pink", len(signal), np.random.default_rng(1)) * 0.003
    return list(split_frames(g711_roundtrip(to_int16(signal), "alaw")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="seconds of ringing per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    frames = ringback(args.seconds)
    early_media_detector()  # load the fingerprints outside the timing
    took = []
    for _ in range(args.runs):
        start = time.process_time()
        verdict = watch_early_media(frames)
        took.append(time.process_time() - start)
        assert verdict is None, f"ringback taken for an announcement: {verdict}"
    median = statistics.median(took)
    print(f"{args.seconds} s of ringback analysed in {median * 1000:.0f} ms CPU (median of "
          f"{args.runs}): {args.seconds / median:.0f}x real time, so one core watches about "
          f"{int(args.seconds / median)} ringing calls at once")


if __name__ == "__main__":
    main()
