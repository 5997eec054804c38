"""Tiles of stored subtree hashes answer the same proofs as the whole list of leaves, reading one
tile per level, and growing the tree never rewrites a tile."""

from __future__ import annotations

from functools import cache

import pytest

from tresen.domain.merkle import Frontier, ProofError, Tree, leaf_hash, node_hash
from tresen.domain.tiles import TILE_WIDTH, TiledTree, TileId, edge_tiles, grown_tiles, tile_for

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(70_000)]


def grow(sizes: list[int]) -> tuple[dict[TileId, list[bytes]], dict[int, Frontier]]:
    """Grow a tree through `sizes` as checkpoints do; every tile it ever wrote, and each frontier."""
    store: dict[TileId, list[bytes]] = {}
    frontiers, frontier, old = {}, Frontier(), 0
    for size in sizes:
        edges = {tile.level: store[tile] for tile in edge_tiles(old)}
        for tile, hashes in grown_tiles(old, edges, LEAVES[old:size]).items():
            assert store.setdefault(tile, hashes) == hashes, f"tile {tile.name} rewritten"
        for leaf in LEAVES[old:size]:
            frontier.append(leaf)
        frontiers[size] = Frontier(frontier.size, frontier.hashes)
        old = size
    return store, frontiers


def tiled(store, frontier: Frontier, reads: list[TileId] | None = None) -> TiledTree:
    def read(tile: TileId) -> list[bytes]:
        if reads is not None:
            reads.append(tile)
        return store[tile]

    return TiledTree(frontier.size, frontier, read)


@cache
def reference_hash(begin: int, end: int) -> bytes:
    """MTH(D[begin:end]) straight from RFC 6962's definition, remembered across the tests."""
    if end - begin == 1:
        return LEAVES[begin]
    k = 1 << ((end - begin - 1).bit_length() - 1)
    return node_hash(reference_hash(begin, begin + k), reference_hash(begin + k, end))


REFERENCE = Tree(reference_hash)
SIZES = [1, 2, 255, 256, 257, 300, 511, 512, 513, 65_535, 65_536, 65_537, 70_000]


def test_tiles_answer_every_proof_the_whole_leaf_list_answers():
    store, frontiers = grow(SIZES)
    for size in SIZES:
        whole = REFERENCE
        tree = tiled(store, frontiers[size])
        assert tree.root(size) == whole.root(size)
        for index in {0, 1, size // 3, size // 2, size - 256, size - 2, size - 1} - {-1, -2, -256}:
            if 0 <= index < size:
                assert tree.inclusion_proof(index, size) == whole.inclusion_proof(index, size), (size, index)
        for old in SIZES:
            if old <= size:
                assert tree.consistency_proof(old, size) == whole.consistency_proof(old, size), (old, size)


def test_a_partial_tile_grows_into_a_new_wider_one_and_full_tiles_roll_up():
    store, _ = grow([100, 300, 70_000])
    assert TileId(0, 0, 100) in store and TileId(0, 0, TILE_WIDTH) in store and TileId(0, 1, 44) in store
    assert len(store[TileId(0, 1, 44)]) == 44
    # 70 000 leaves: 273 full level-0 tiles (and one of 112), so level 1 has one full tile and one
    # of 17 nodes, and level 2 one node
    assert tile_for(70_000, 1, 1) == TileId(1, 1, 17) and TileId(1, 1, 17) in store
    assert store[TileId(2, 0, 1)] == [REFERENCE.root(65_536)]


def test_an_inclusion_proof_reads_one_tile_per_level_below_the_root():
    store, frontiers = grow([70_000])
    for index in (0, 12_345, 65_535, 65_536, 69_999):
        reads: list[TileId] = []
        tiled(store, frontiers[70_000], reads).inclusion_proof(index, 70_000)
        assert len(reads) <= 3 and len({tile.level for tile in reads}) == len(reads), reads


def test_an_edge_tile_that_does_not_fit_the_old_size_is_refused():
    with pytest.raises(ProofError):
        grown_tiles(300, {0: LEAVES[:10]}, LEAVES[300:310])
    with pytest.raises(ProofError):
        tile_for(300, 0, 2)
