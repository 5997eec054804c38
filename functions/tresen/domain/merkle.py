"""The journal as an RFC 6962 / RFC 9162 Merkle tree: leaf and node hashing, the root of any size,
inclusion and consistency proofs, and their verification.

Leaf `i` is the store's journal entry with seq `i + 1`: SHA-256(0x00 ‖ the entry's RFC 8785
bytes). Proofs are built from hashes of subtrees `[begin, end)`; `Tree` asks a `subtree_hash`
function for them, so what keeps the hashes (a list of leaf hashes here; stored subtree hashes for
a store with millions of entries) is the caller's to choose. Verification is written from the RFC
and checked against independent known-answer vectors (tests/data/rfc6962).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not prove what it claims (or is malformed)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(size: int) -> int:
    """The largest power of two smaller than `size` (size > 1): where RFC 6962 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root of the tree over these leaves (MTH)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = split(len(leaf_hashes))
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


class Frontier:
    """The roots of the perfect subtrees that make up leaves [0, size), largest first (at most one
    per bit of `size`): enough to append leaves and to know the root at every size on the way,
    in one pass and O(log size) memory. Every right-edge hash a proof needs, MTH(D[k:size]), is
    the fold of a suffix of it (`right_edge`)."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        if len(hashes) != size.bit_count():
            raise ProofError(f"a frontier of size {size} has {size.bit_count()} hashes, not {len(hashes)}")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> None:
        node, size = leaf, self.size
        while size & 1:  # each completed pair of equal subtrees merges into one
            node = node_hash(self.hashes.pop(), node)
            size >>= 1
        self.hashes.append(node)
        self.size += 1

    def subtrees(self) -> list[tuple[int, int]]:
        """(begin, end) of each frontier hash, in order."""
        ranges, begin = [], 0
        for bit in reversed(range(self.size.bit_length())):
            if self.size >> bit & 1:
                ranges.append((begin, begin + (1 << bit)))
                begin += 1 << bit
        return ranges

    def right_edge(self, begin: int) -> bytes:
        """MTH(D[begin:size]), where `begin` is where one of the frontier's subtrees begins."""
        ranges = self.subtrees()
        starts = [start for start, _ in ranges]
        if begin not in starts:
            raise ProofError(f"{begin} is not where a subtree of the frontier of {self.size} begins")
        suffix = self.hashes[starts.index(begin) :]
        node = suffix[-1]
        for left in reversed(suffix[:-1]):
            node = node_hash(left, node)
        return node

    def root(self) -> bytes:
        return self.right_edge(0) if self.size else EMPTY_ROOT


SubtreeHash = Callable[[int, int], bytes]  # (begin, end) → the root of leaves [begin, end)


class Tree:
    """Proofs for a tree whose subtree hashes `subtree_hash(begin, end)` provides."""

    def __init__(self, subtree_hash: SubtreeHash):
        self._hash = subtree_hash

    @classmethod
    def of_leaves(cls, leaf_hashes: Sequence[bytes]) -> Tree:
        return cls(lambda begin, end: root_of(leaf_hashes[begin:end]))

    def root(self, size: int) -> bytes:
        return self._hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 6962 §2.1.1."""
        if not 0 <= index < size:
            raise ProofError(f"leaf {index} is not in a tree of size {size}")
        return self._path(index, 0, size)

    def _path(self, index: int, begin: int, end: int) -> list[bytes]:
        if end - begin == 1:
            return []
        k = split(end - begin)
        if index < k:
            return [*self._path(index, begin, begin + k), self._hash(begin + k, end)]
        return [*self._path(index - k, begin + k, end), self._hash(begin, begin + k)]

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) of RFC 6962 §2.1.2."""
        if not 0 < old_size <= new_size:
            raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, begin: int, end: int, whole: bool) -> list[bytes]:
        n = end - begin
        if m == n:
            return [] if whole else [self._hash(begin, end)]
        k = split(n)
        if m <= k:
            return [*self._subproof(m, begin, begin + k, whole), self._hash(begin + k, end)]
        return [*self._subproof(m - k, begin + k, end, False), self._hash(begin, begin + k)]


def _check_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError("a hash is not 32 bytes")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Raises ProofError unless `proof` shows leaf hash `leaf` at `index` of the tree `root` of
    `size` leaves (RFC 9162 §2.1.3.2)."""
    _check_hashes(leaf, root, *proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Raises ProofError unless `proof` shows the tree `new_root` of `new_size` leaves extends the
    tree `old_root` of `old_size` leaves (RFC 9162 §2.1.4.2)."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size == new_size:  # nothing to prove but that the roots are the same
        if proof or old_root != new_root:
            raise ProofError("equal sizes need an empty proof and equal roots")
        return
    _check_hashes(old_root, new_root, *proof)
    if not proof:
        raise ProofError("the proof is empty")
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("the consistency proof does not lead to both roots")
