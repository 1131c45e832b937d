"""``text.Chunked`` behaves as the plain list it stands for, through random splices."""

from __future__ import annotations

import bisect
import random
from array import array

import pytest

from erd_lsp.text import Chunked


def _check(c: Chunked, ref: list, rng: random.Random) -> None:
    assert len(c) == len(ref)
    assert list(c) == ref
    assert c == ref and ref == c and c == tuple(ref)
    assert list(reversed(c)) == ref[::-1]
    for _ in range(5):
        if ref:
            i = rng.randrange(-len(ref), len(ref))
            assert c[i] == ref[i]
        a = rng.randint(-3, len(ref) + 3)
        b = rng.randint(-3, len(ref) + 3)
        assert c[a:b] == ref[a:b]
        assert c[a:] == ref[a:] and c[:b] == ref[:b]
        assert list(c.iter_from(max(0, a), max(0, b))) == ref[max(0, a) : max(0, b)]
    assert c[::2] == ref[::2]
    with pytest.raises(IndexError):
        c[len(ref)]
    with pytest.raises(IndexError):
        c[-len(ref) - 1]
    # chunks are never empty, and their first indexes add up
    assert all(c._chunks)
    assert c._first == [sum(len(x) for x in c._chunks[:k]) for k in range(len(c._chunks))]
    assert len(c.aux) == len(c._chunks)


@pytest.mark.parametrize("seed", range(6))
def test_random_splices_of_values_match_a_list(seed):
    rng = random.Random(seed)
    Chunked.CHUNK, saved = rng.choice([2, 3, 8, 256]), Chunked.CHUNK
    try:
        ref = [object() if rng.random() < 0.2 else rng.randint(0, 9) for _ in range(rng.randint(0, 400))]
        c = Chunked(ref)
        _check(c, ref, rng)
        for _ in range(80):
            n = len(ref)
            a = rng.randint(0, n)
            b = min(n, a + rng.choice([0, 0, 1, 3, 40, 500]))
            new = [rng.randint(0, 9) for _ in range(rng.choice([0, 1, 2, 5, 300]))]
            old = list(c)
            d = c.spliced(a, b, new)
            ref = ref[:a] + new + ref[b:]
            _check(d, ref, rng)
            assert list(c) == old  # the old version is unchanged
            if ref:
                x = ref[rng.randrange(len(ref))]
                assert d.index(x) == ref.index(x)
                lo, hi = sorted(rng.randint(0, len(ref) + 2) for _ in range(2))
                try:
                    want = ref.index(x, lo, hi)
                except ValueError:
                    with pytest.raises(ValueError):
                        d.index(x, lo, hi)
                else:
                    assert d.index(x, lo, hi) == want
            c = d
    finally:
        Chunked.CHUNK = saved


@pytest.mark.parametrize("typecode", [None, "q"])
@pytest.mark.parametrize("seed", range(6))
def test_random_splices_of_offsets_match_a_list(seed, typecode):
    rng = random.Random(seed)
    Chunked.CHUNK, saved = rng.choice([2, 3, 8, 256]), Chunked.CHUNK
    try:
        ref = sorted(rng.sample(range(10_000), rng.randint(0, 800)))
        c = Chunked(ref, offsets=True, typecode=typecode)
        _check(c, ref, rng)
        if typecode is not None:
            assert all(chunk.__class__ is array for chunk in c._chunks)
        for _ in range(80):
            n = len(ref)
            a = rng.randint(0, n)
            b = min(n, a + rng.choice([0, 0, 1, 3, 40, 500]))
            lo = ref[a - 1] + 1 if a else 0
            hi = ref[b] if b < n else lo + 50
            delta = rng.choice([0, 0, 1, -1, 17, -3])
            new = sorted(rng.randint(lo, max(lo, hi + min(0, delta) - 1)) for _ in range(rng.choice([0, 1, 2, 5, 300])))
            if b < n and new and new[-1] >= ref[b] + delta:
                delta = new[-1] - ref[b] + 1
            if a and b < n and not new and ref[b] + delta <= ref[a - 1]:
                delta = ref[a - 1] - ref[b] + 1
            old = list(c)
            d = c.spliced(a, b, new, delta)
            ref = ref[:a] + new + [x + delta for x in ref[b:]]
            _check(d, ref, rng)
            if typecode is not None and ref:  # array chunks stay arrays
                assert all(chunk.__class__ is array for chunk in d._chunks)
            assert list(c) == old
            assert ref == sorted(ref)
            for _ in range(8):
                x = rng.randint(-5, (ref[-1] if ref else 0) + 5)
                assert d.bisect_left(x) == bisect.bisect_left(ref, x)
                assert d.bisect_right(x) == bisect.bisect_right(ref, x)
                k = rng.randint(0, len(ref))
                assert d.bisect_left(x, k) == bisect.bisect_left(ref, x, k)
            c = d
    finally:
        Chunked.CHUNK = saved


def test_aligned_sequences_stay_aligned_and_keep_their_shared_aux():
    rng = random.Random(7)
    starts = Chunked(list(range(0, 20_000, 3)), offsets=True)
    ext = Chunked.like(starts, [1] * len(starts))
    assert ext.aligned(starts) and not ext.aligned(Chunked([1] * len(starts)).spliced(5, 6, [1, 2]))
    for _ in range(50):
        n = len(starts)
        a = rng.randint(0, n)
        b = min(n, a + rng.choice([0, 1, 4, 300]))
        k = rng.choice([0, 1, 3, 400])
        ext.aux[:] = [id(ch) for ch in ext._chunks]
        starts2 = starts.spliced(a, b, list(range(k)), rng.randint(-5, 5))
        ext2 = ext.spliced(a, b, [2] * k)
        assert ext2.aligned(starts2)
        assert sum(v is not None for v in ext2.aux) >= len(ext2.aux) - 3
        for ch, v in zip(ext2._chunks, ext2.aux):
            assert v is None or v == id(ch)  # a shared chunk keeps its cached value
        starts, ext = starts2, ext2
