"""kb.families.minhash: signatures estimate word 5-gram Jaccard similarity."""

from __future__ import annotations

import numpy as np

from kb import families


def words(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"w{i}" for i in rng.integers(0, 5000, size=n)]


def test_signature_agreement_estimates_jaccard():
    base = words(1500, 0)
    for changed in (0, 30, 150, 600, 1500):  # replace a growing share of the words
        other = base[:]
        for i in np.random.default_rng(changed).choice(len(base), changed, replace=False):
            other[i] = "x" + other[i]
        a, b = families.shingles(" ".join(base)), families.shingles(" ".join(other))
        exact = families.jaccard(a, b)
        estimate = float((families.minhash(a) == families.minhash(b)).mean())
        assert abs(estimate - exact) < 0.12, (changed, exact, estimate)
    assert (families.minhash(a) == families.minhash(set(a))).all()  # deterministic


def test_empty_and_tiny_texts_have_signatures():
    empty = families.minhash(families.shingles(""))
    assert empty.shape == (families.MINHASH_K,) and empty.dtype == np.uint32
    one = families.minhash(families.shingles("two words"))
    assert not (one == empty).all()
