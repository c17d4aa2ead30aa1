"""Landmark fingerprints of known greetings and announcements (the Shazam / audfprint method).

Each frame's strongest spectral peaks are paired with later peaks nearby in time and
frequency; a pair hashes to (anchor bin, bin difference, frame difference) in 18 bits and is
stored with its anchor's frame. A query matches a reference when many of its hashes agree on
one time offset between the two, so the match ignores where the greeting started and survives
noise and G.711 (enough peaks outlive them). Only frames the VAD calls active give peaks, so
background noise adds none. References are indexed four times, shifted by a quarter frame,
so a query's unknown sub-frame alignment costs little.

Database file (`amd_models/fingerprints/*.npz`, numpy npz, no pickles):
  format       int, FORMAT_VERSION
  hashes       uint32[n], sorted ascending
  tracks       uint16[n], index into entries
  times        uint16[n], anchor frame (20 ms) in the reference
  entries      str: JSON list of {"name", "label", "duration_ms"}; label is "machine" (voicemail,
               assistant, company IVR) or "unreachable" (a network announcement)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import maximum_filter

from engine.amd.analysis import N_BINS, BlockAnalysis, analyse_block
from engine.amd.frames import FRAME_SAMPLES, SAMPLE_RATE, split_frames
from engine.amd.vad import Vad

FORMAT_VERSION = 1
FINGERPRINT_LABELS = ("machine", "unreachable")
_LOW_BIN, _HIGH_BIN = 4, 124
_F_BITS, _DF_BITS, _DT_BITS = 7, 6, 5


@dataclass(frozen=True, slots=True)
class FingerprintParams:
    time_radius: int = 3  # frames: a peak is the maximum of +-3 frames...
    freq_radius: int = 6  # ...and +-6 bins (+-190 Hz) around it
    min_prominence_db: float = 10.0  # above the frame's mean bin level (dB)
    min_level_db: float = -50.0
    max_dt: int = 20  # frames
    max_df: int = 31  # bins
    fan_out: int = 5
    min_matches: int = 12  # hashes agreeing on one offset (+-1 frame) to call it a match


@dataclass(frozen=True, slots=True)
class Match:
    name: str
    label: str
    score: int
    at_ms: int


class Landmarks:
    """Streaming peak picking and pairing: feed blocks, get (hashes, anchor frames) per block.

    A peak is the maximum of its time-frequency neighbourhood (+-`time_radius` frames,
    +-`freq_radius` bins), so peaks are confirmed `time_radius` frames late.
    """

    def __init__(self, params: FingerprintParams | None = None) -> None:
        self.params = params or FingerprintParams()
        self._frame = 0  # frames seen
        self._vad = Vad()
        self._history = np.full((2 * self.params.time_radius, N_BINS), -np.inf, np.float32)
        self._t = np.zeros(0, np.int32)  # recent peaks: frame, bin, pairs made so far
        self._f = np.zeros(0, np.int32)
        self._used = np.zeros(0, np.int32)

    def update(self, block: BlockAnalysis) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        t_new, f_new = self._peaks(block)
        t_all = np.concatenate([self._t, t_new])
        f_all = np.concatenate([self._f, f_new])
        used = np.concatenate([self._used, np.zeros(len(t_new), np.int32)])
        dt = t_new[None, :] - t_all[:, None]
        df = f_new[None, :] - f_all[:, None]
        valid = (dt >= 1) & (dt <= p.max_dt) & (np.abs(df) <= p.max_df)
        rank = np.cumsum(valid, axis=1) + used[:, None]
        valid &= rank <= p.fan_out
        used += valid.sum(axis=1)
        anchor, target = np.nonzero(valid)
        hashes = hash_pairs(f_all[anchor], df[anchor, target], dt[anchor, target])
        keep = t_all > self._frame - p.time_radius - 1 - p.max_dt
        self._t, self._f, self._used = t_all[keep], f_all[keep], used[keep]
        return hashes, t_all[anchor]

    def _peaks(self, block: BlockAnalysis) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        db = 10.0 * np.log10(block.power + 1e-12)
        db -= db.mean(axis=1, keepdims=True) + p.min_prominence_db
        db[(block.energy_db <= p.min_level_db) | ~self._vad.update(block.energy_db, block.zcr)] = -np.inf
        db[:, :_LOW_BIN] = db[:, _HIGH_BIN:] = -np.inf
        window = np.vstack([self._history, db])
        self._history = window[-2 * p.time_radius:]
        first = self._frame - 2 * p.time_radius  # frame index of window row 0
        self._frame += len(db)
        peak = (window == maximum_filter(window, size=(2 * p.time_radius + 1, 2 * p.freq_radius + 1),
                                         mode="constant", cval=-np.inf)) & (window > 0)
        peak[:p.time_radius] = False  # decided in an earlier block
        peak[len(window) - p.time_radius:] = False  # neighbourhood not complete yet
        rows, cols = np.nonzero(peak)
        return (rows + first).astype(np.int32), cols.astype(np.int32)


def hash_pairs(f0: np.ndarray, df: np.ndarray, dt: np.ndarray) -> np.ndarray:
    return ((f0.astype(np.uint32) << (_DF_BITS + _DT_BITS))
            | ((df + (1 << (_DF_BITS - 1))).astype(np.uint32) << _DT_BITS)
            | dt.astype(np.uint32))


def landmarks_of(pcm: np.ndarray, params: FingerprintParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All (hashes, anchor frames) of a whole clip."""
    frames = np.array(list(split_frames(pcm)))
    if not len(frames):
        return np.zeros(0, np.uint32), np.zeros(0, np.int32)
    return Landmarks(params).update(analyse_block(frames))


class FingerprintDB:
    """Reference landmarks with labels; `add` indexes a clip, `save`/`load` use the npz format."""

    def __init__(self, params: FingerprintParams | None = None) -> None:
        self.params = params or FingerprintParams()
        self.entries: list[dict] = []
        self.hashes = np.zeros(0, np.uint32)
        self.tracks = np.zeros(0, np.uint16)
        self.times = np.zeros(0, np.uint16)

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, pcm: np.ndarray, name: str, label: str) -> None:
        if label not in FINGERPRINT_LABELS:
            raise ValueError(f"fingerprint label {label!r} is not one of {', '.join(FINGERPRINT_LABELS)}")
        if any(entry["name"] == name for entry in self.entries):
            raise ValueError(f"a fingerprint named {name!r} is already in the database")
        pairs = set()
        for shift in range(0, FRAME_SAMPLES, FRAME_SAMPLES // 4):
            hashes, times = landmarks_of(pcm[shift:], self.params)
            pairs.update(zip(hashes.tolist(), times.tolist()))
        if not pairs:
            raise ValueError(f"{name!r} has no audible landmarks (silent or too short)")
        hashes, times = (np.array(column) for column in zip(*sorted(pairs)))
        track = len(self.entries)
        self.entries.append({"name": name, "label": label, "duration_ms": len(pcm) * 1000 // SAMPLE_RATE})
        merged_hashes = np.concatenate([self.hashes, hashes.astype(np.uint32)])
        order = np.argsort(merged_hashes, kind="stable")
        self.hashes = merged_hashes[order]
        self.tracks = np.concatenate([self.tracks, np.full(len(hashes), track, np.uint16)])[order]
        self.times = np.concatenate([self.times, times.astype(np.uint16)])[order]

    def lookup(self, hashes: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(track, reference frame - query frame) for every stored hash equal to a query hash."""
        lo = np.searchsorted(self.hashes, hashes, "left")
        hi = np.searchsorted(self.hashes, hashes, "right")
        counts = hi - lo
        total = int(counts.sum())
        if not total:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        index = starts + np.arange(total)
        return self.tracks[index].astype(np.int64), self.times[index].astype(np.int64) - np.repeat(times, counts)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path, format=np.int64(FORMAT_VERSION), hashes=self.hashes, tracks=self.tracks,
            times=self.times, entries=np.array(json.dumps(self.entries, ensure_ascii=False)))

    @classmethod
    def load(cls, path: str | Path, params: FingerprintParams | None = None) -> FingerprintDB:
        with np.load(path, allow_pickle=False) as data:
            version = int(data["format"])
            if version != FORMAT_VERSION:
                raise ValueError(f"{path}: fingerprint format {version}, expected {FORMAT_VERSION}")
            db = cls(params)
            db.hashes, db.tracks, db.times = data["hashes"], data["tracks"], data["times"]
            db.entries = json.loads(str(data["entries"]))
        return db


class FingerprintMatcher:
    """Per-stream matching against a database: feed blocks, get a Match once one is certain."""

    def __init__(self, db: FingerprintDB) -> None:
        self.db = db
        self._landmarks = Landmarks(db.params)
        self._votes: dict[int, int] = {}

    def update(self, block: BlockAnalysis, end_ms: int) -> Match | None:
        hashes, times = self._landmarks.update(block)
        if not len(hashes) or not len(self.db):
            return None
        tracks, offsets = self.db.lookup(hashes, times)
        if not len(tracks):
            return None
        keys, counts = np.unique(tracks * 100_000 + offsets + 50_000, return_counts=True)
        votes = self._votes
        for key, count in zip(keys.tolist(), counts.tolist()):
            votes[key] = votes.get(key, 0) + count
        best_key, best = max(((key, votes.get(key - 1, 0) + votes[key] + votes.get(key + 1, 0))
                              for key in keys.tolist()), key=lambda item: item[1])
        if best < self.db.params.min_matches:
            return None
        entry = self.db.entries[best_key // 100_000]
        return Match(entry["name"], entry["label"], best, end_ms)
