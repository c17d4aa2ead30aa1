import numpy as np

from engine.amd import corpus_texts as texts
from engine.amd.corpus import CLIP_SECONDS, KNOWN, make_spec, render


def test_specs_and_audio_are_reproducible_from_the_seed() -> None:
    assert make_spec(5, "test", 3) == make_spec(5, "test", 3)
    assert make_spec(5, "test", 3) != make_spec(6, "test", 3)
    first, again = render(make_spec(5, "test", 3)), render(make_spec(5, "test", 3))
    assert np.array_equal(first, again) and len(first) == CLIP_SECONDS * 8000


def test_the_test_split_uses_only_held_out_texts_and_voices() -> None:
    train_variants = set(texts.pool_for(texts.VARIANTS, "train", 4)) | set(texts.pool_for(texts.ROBOT_VARIANTS, "train", 4))
    for index in range(60):
        spec = make_spec(11, "test", index)
        assert spec.voice.split("+")[1] not in train_variants
        if spec.kind == "known":
            assert spec.text == KNOWN[spec.known][2] and spec.label == "machine"
        elif spec.kind in ("human_short", "human_again"):
            assert spec.text in texts.pool_for(texts.HUMAN_SHORT[spec.lang], "test", 4)


def test_both_labels_and_many_kinds_appear() -> None:
    specs = [make_spec(1, "train", i) for i in range(200)]
    labels = {spec.label for spec in specs}
    kinds = {spec.kind for spec in specs}
    assert labels == {"human", "machine"} and len(kinds) == 9
    assert any(spec.sit for spec in specs) and any(spec.beep_hz for spec in specs)
    assert {spec.lang for spec in specs} == {"ru", "en"}
