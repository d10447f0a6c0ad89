"""Translation families and duplicates.

Translation: two articles in different languages are translations of each other when
their sentences align one-to-one in order. Each sentence is embedded; a pair (i, j) is
kept when sentence i's best match in B is j and j's best match in A is i (mutual best),
and the longest chain of kept pairs that is increasing in both articles is the
alignment. The score is the chain length over the longer article's sentence count, so
a translation scores near 1 and two articles on the same topic, which share vocabulary
but not sentence order, score low. Comparing sentences only within one pair of
articles makes e5's same-language bonus irrelevant. The threshold is calibrated on
XQuAD's parallel paragraphs (benchmarks/families_calibrate.py).

Duplicates: the same text with trivial changes (whitespace, case, punctuation, a few
words) has a word 5-gram Jaccard similarity near 1 to the original. Each stored article
keeps a MinHash signature of its shingles, so an upload is compared with every article
by a vectorised signature match, and exactly (from the texts) only with the few whose
estimated similarity comes near the threshold: shingling every stored text on every
upload took 5.4 s at 1,000 articles (benchmarks/write_scale.py).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

# Calibrated on XQuAD's parallel paragraphs (benchmarks/families_calibrate.py, 80
# paragraphs x 3 language pairs): at 0.6, 94% of translations and 0.8% of same-topic
# paragraph pairs pass; short paragraphs are the hard case (two sentences aligning by
# chance score 1.0), so at least MIN_ALIGNED sentence pairs are also required. Whole
# articles separate cleanly: the seeds' de/vi pair scores 0.83, all others <= 0.06.
FAMILY_THRESHOLD = 0.6
# Also for articles of fewer sentences (2026-12-06): a note of one or two sentences is
# never linked. With min(3, sentences) 1.4% of pairs of 2-3-sentence windows of
# different seed articles passed (QA found such a link); now none do, and XQuAD
# translations pass 84.6% instead of 92.1% (those lost have a side of 1-2 sentences).
MIN_ALIGNED = 3
# Short unrelated articles still passed: with 4-5 sentences, 3 mutual best matches in
# order happen by chance (1.1% of pairs of 4-5-sentence windows of different seed
# articles in other languages). Sentences that translate each other are also close:
# the aligned pairs' mean cosine must reach this. On XQuAD (families_calibrate.py, 80
# paragraphs x 3 pairs) translations passing went 93.8% -> 92.1%, same-topic pairs
# 0.8% -> 0, unrelated 0.4% -> 0, the seed windows 1.1% -> 0.4%; the seeds' de/vi
# pair has 0.87.
MIN_SIMILARITY = 0.83
# With only MIN_ALIGNED pairs, chance alignments are likeliest (three mutual best
# matches fall in order one time in six), and QA linked two unrelated 3-sentence notes
# (a German one on price anchors, a French one tagged English: similarity 0.850). Such
# alignments must be closer: of XQuAD translations aligned by exactly 3 pairs, 16 of 25
# reach 0.86 (median 0.867); of the seed windows passing by 3 pairs, none (71 passed
# MIN_SIMILARITY; median 0.836). Translations passing overall 84.6% -> 80.8%.
MIN_SIMILARITY_FEWEST = 0.86
# Korean and Vietnamese sentences are closer to each other in e5 than German and
# Vietnamese: QA10 linked two unrelated 5-sentence notes (retention; word of mouth) by 4
# pairs at similarity 0.86, the level of the seeds' real de/vi translation (0.87). Pairs
# that translate each other stand out from the two texts' other sentence pairs: the
# aligned pairs' mean cosine must exceed the rest's by this much. XQuAD translations:
# median 0.089, 5th percentile 0.050; the seeds' de/vi pair 0.075; QA10's two false
# links 0.033 and 0.040 (benchmarks/families_calibrate.py).
MIN_CONTRAST = 0.045
# A translation of part of an article (QA20: the first three of five sections) scores
# the share of the longer article it covers, under FAMILY_THRESHOLD. It is linked when
# its own sentences nearly all align (PARTIAL_COVERS of the shorter text), by at least
# PARTIAL_MIN_ALIGNED pairs, in one stretch of the longer text (PARTIAL_DENSITY: aligned
# pairs over the sentences they span there), as close as whole translations are
# (MIN_SIMILARITY, MIN_CONTRAST). `families_calibrate.py --partial` (1-3 of an XQuAD
# article's 5 paragraphs against the whole article in another language, 288 pairs):
# 81% of partial translations pass; of 288 same-topic and 288 unrelated pairs, and 1,682
# seed windows of 3-10 sentences against whole seed articles, none. Without the density
# rule 2 of the seed windows passed (4 pairs spread over 29 and 98 sentences).
PARTIAL_MIN_ALIGNED = 4
PARTIAL_COVERS = 0.7
PARTIAL_DENSITY = 0.5
DUPLICATE_THRESHOLD = 0.85
# Below the duplicate bar, an upload that shares half its 5-word phrases with an article
# (Jaccard), or whose shorter text has 60% of its phrases in the other, is flagged as
# similar: an edited or extended copy, most likely meant as a new version. It is not
# refused. (0.8 until stop 28: QA9's copy of 70% of an article's paragraphs plus 30% new
# text, 63% contained, went unmentioned.)
SIMILAR_THRESHOLD = 0.5
SIMILAR_CONTAINED = 0.6


@dataclass(frozen=True)
class Alignment:
    score: float
    pairs: list[tuple[int, int]]  # (sentence index in A, sentence index in B), in order
    n_a: int
    n_b: int
    similarity: float = 0.0  # mean cosine of the aligned pairs
    contrast: float = 0.0  # similarity minus the mean cosine of all other pairs

    @property
    def covers(self) -> float:
        """The share of the shorter text's sentences that align."""
        return len(self.pairs) / max(1, min(self.n_a, self.n_b))

    @property
    def density(self) -> float:
        """Aligned pairs over the sentences of the longer text that they span."""
        if not self.pairs:
            return 0.0
        side = [j for _, j in self.pairs] if self.n_b >= self.n_a else [i for i, _ in self.pairs]
        return len(self.pairs) / (max(side) - min(side) + 1)

    @property
    def is_partial_translation(self) -> bool:
        """One text translates a stretch of the other, not all of it."""
        return (
            not self.is_translation
            and len(self.pairs) >= PARTIAL_MIN_ALIGNED
            and self.covers >= PARTIAL_COVERS
            and self.density >= PARTIAL_DENSITY
            and self.similarity >= MIN_SIMILARITY
            and self.contrast >= MIN_CONTRAST
        )

    @property
    def is_translation(self) -> bool:
        return (
            self.score >= FAMILY_THRESHOLD
            and len(self.pairs) >= MIN_ALIGNED
            and self.similarity
            >= (MIN_SIMILARITY_FEWEST if len(self.pairs) == MIN_ALIGNED else MIN_SIMILARITY)
            and self.contrast >= MIN_CONTRAST
        )


def is_partial_link(score: float) -> bool:
    """A stored translation link's score under FAMILY_THRESHOLD: only a partial
    translation is linked below it (whole ones need it; partial ones have the same
    floors otherwise, and more pairs)."""
    return score < FAMILY_THRESHOLD


def align(a: np.ndarray, b: np.ndarray) -> Alignment:
    """Align two articles' sentence vectors (rows L2-normalised)."""
    if len(a) == 0 or len(b) == 0:
        return Alignment(0.0, [], len(a), len(b))
    sims = a @ b.T
    best_b = sims.argmax(axis=1)
    best_a = sims.argmax(axis=0)
    mutual = [(i, int(j)) for i, j in enumerate(best_b) if best_a[j] == i]
    chain = _longest_increasing(mutual)
    similarity = float(np.mean([sims[i, j] for i, j in chain])) if chain else 0.0
    rest = sims.size - len(chain)
    background = (float(sims.sum()) - similarity * len(chain)) / rest if rest else 0.0
    return Alignment(len(chain) / max(len(a), len(b)), chain, len(a), len(b), similarity,
                     similarity - background if chain else 0.0)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest subsequence of (i, j) pairs (sorted by i) with increasing j."""
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_idx.append(k)
        else:
            tails[pos] = j
            tail_idx[pos] = k
        prev[k] = tail_idx[pos - 1] if pos else -1
    out = []
    k = tail_idx[-1] if tail_idx else -1
    while k >= 0:
        out.append(pairs[k])
        k = prev[k]
    return out[::-1]


def shingles(text: str, n: int = 5) -> set[int]:
    """Hashed word n-grams of normalised text (case, accents' composition, punctuation)."""
    import zlib

    words = re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold())
    if len(words) < n:
        return {zlib.crc32(" ".join(words).encode())} if words else set()
    return {zlib.crc32(" ".join(words[i : i + n]).encode()) for i in range(len(words) - n + 1)}


MINHASH_K = 128
# An estimate from 128 hashes has a standard error of at most 0.044 (0.032 at 0.85), so
# a true 0.85 falls below this candidate bar with odds under 1e-6, and a true 0.5 with
# odds under 1e-8. An extended copy three times the original's length (Jaccard 0.33)
# is usually caught; a longer one may not be.
MINHASH_CANDIDATE = 0.25
_SEEDS = np.random.default_rng(20261130).integers(1, 2**63, size=(2, MINHASH_K), dtype=np.uint64)


def minhash(shingle_set: set[int]) -> np.ndarray:
    """A MinHash signature (``MINHASH_K`` uint32) of a shingle set: per hash function
    (multiply-shift on 64 bits), the smallest hash of any shingle. Two signatures agree
    in a share of places that estimates the sets' Jaccard similarity."""
    if not shingle_set:
        return np.full(MINHASH_K, 2**32 - 1, np.uint32)
    x = np.fromiter(shingle_set, np.uint64, count=len(shingle_set))[:, None]
    with np.errstate(over="ignore"):  # wrapping is the hash
        hashed = (x * _SEEDS[0] + _SEEDS[1]) >> np.uint64(32)
    return hashed.min(axis=0).astype(np.uint32)


def jaccard(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def contained(a: set[int], b: set[int]) -> float:
    """The share of the smaller set that the other holds."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
