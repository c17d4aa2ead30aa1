"""The compact set of external ids accepted during one import."""

from __future__ import annotations

from engine.exchange.seen import SeenIds


def test_remembers_ids_across_chunks_in_8_bytes_each():
    seen = SeenIds()
    assert seen.contains(["a", "b"]) == [False, False]
    seen.add(["b", "c"])
    seen.add([f"id-{n}" for n in range(1000)])
    assert seen.contains(["a", "b", "c", "id-999", "id-1000"]) == [False, True, True, True, False]
    assert len(seen) == 1002
    assert seen._hashes.nbytes == 8 * 1002
    assert list(seen._hashes) == sorted(seen._hashes)
