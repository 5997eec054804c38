"""Stored subtree hashes of a journal's Merkle tree, in tiles as C2SP tlog-tiles lays them out.

A tile at level L holds up to 256 consecutive hashes of nodes of height 8·L: level 0 holds leaf
hashes, level 1 the roots of full level-0 tiles, and so on. A tile that is not yet full is
"partial" and named by its width, so growing the tree never rewrites a tile: a wider one is
written beside it. A proof then needs only the tiles on the leaf's path, one per level, plus the
tree's frontier (the roots of the perfect subtrees making up [0, size)), which the checkpoint
keeps: three tiles and the checkpoint at a million entries.

This module is the arithmetic; where the tiles are kept is the caller's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .merkle import Frontier, ProofError, Tree, root_of

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


@dataclass(frozen=True)
class TileId:
    level: int
    index: int
    width: int  # how many hashes it holds: TILE_WIDTH when full

    @property
    def name(self) -> str:
        partial = "" if self.width == TILE_WIDTH else f".p{self.width}"
        return f"{self.level}-{self.index:09d}{partial}"


def complete_nodes(size: int, level: int) -> int:
    """How many nodes of height 8·level a tree of `size` leaves has complete."""
    return size >> (TILE_HEIGHT * level)


def tile_for(size: int, level: int, index: int) -> TileId:
    """The tile `index` of `level` as a tree of `size` leaves has it."""
    width = min(TILE_WIDTH, complete_nodes(size, level) - index * TILE_WIDTH)
    if width <= 0:
        raise ProofError(f"a tree of size {size} has no tile {index} at level {level}")
    return TileId(level, index, width)


def edge_tiles(size: int) -> list[TileId]:
    """The partial tile at the right edge of each level (none where the level ends on a full tile)."""
    tiles, level = [], 0
    while complete_nodes(size, level):
        nodes = complete_nodes(size, level)
        if nodes % TILE_WIDTH:
            tiles.append(tile_for(size, level, nodes // TILE_WIDTH))
        level += 1
    return tiles


def grown_tiles(
    old_size: int, edges: dict[int, Sequence[bytes]], new_leaves: Sequence[bytes]
) -> dict[TileId, list[bytes]]:
    """Every tile the tree gains when it grows from `old_size` by `new_leaves`.

    `edges[level]` holds the hashes of the old tree's partial tile at that level (see
    `edge_tiles(old_size)`; a level without one is left out or empty). Full tiles the old tree
    already had are not repeated; a partial one grows into a new, wider tile.
    """
    new_size = old_size + len(new_leaves)
    tiles: dict[TileId, list[bytes]] = {}
    level, below = 0, list(new_leaves)  # the new nodes of the level being built
    while complete_nodes(new_size, level) > complete_nodes(old_size, level):
        old_nodes = complete_nodes(old_size, level)
        first_tile = old_nodes // TILE_WIDTH
        nodes = list(edges.get(level, ())) + below  # from the start of `first_tile`
        if len(nodes) != complete_nodes(new_size, level) - first_tile * TILE_WIDTH:
            raise ProofError(f"level {level}: the old edge tile does not fit a tree of size {old_size}")
        for offset in range(0, len(nodes), TILE_WIDTH):
            hashes = nodes[offset : offset + TILE_WIDTH]
            tiles[TileId(level, first_tile + offset // TILE_WIDTH, len(hashes))] = hashes
        # the level above gains the root of each tile that became full
        full = [tile for tile in tiles if tile.level == level and tile.width == TILE_WIDTH]
        below = [root_of(tiles[tile]) for tile in sorted(full, key=lambda t: t.index)]
        level += 1
    return tiles


class TiledTree(Tree):
    """Proofs for a tree of `size` leaves from its tiles (`read_tile`) and its frontier."""

    def __init__(self, size: int, frontier: Frontier, read_tile: Callable[[TileId], Sequence[bytes]]):
        if frontier.size != size:
            raise ProofError(f"a frontier of size {frontier.size} is not that of a tree of size {size}")
        self.size = size
        self._frontier = frontier
        self._read = read_tile
        self._tiles: dict[TileId, Sequence[bytes]] = {}
        self._edge_starts = {begin for begin, _ in frontier.subtrees()}
        super().__init__(self._subtree_hash)

    def _subtree_hash(self, begin: int, end: int) -> bytes:
        if end == self.size and begin in self._edge_starts:
            return self._frontier.right_edge(begin)
        height = (end - begin).bit_length() - 1
        if end - begin != 1 << height or begin % (end - begin) or end > self.size:
            raise ProofError(f"[{begin}, {end}) is neither a perfect subtree nor a right edge of {self.size}")
        level, below = divmod(height, TILE_HEIGHT)
        first = begin >> (TILE_HEIGHT * level)  # its first node of height 8·level
        tile = tile_for(self.size, level, first // TILE_WIDTH)
        if tile not in self._tiles:
            hashes = self._read(tile)
            if len(hashes) != tile.width:
                raise ProofError(f"tile {tile.name} holds {len(hashes)} hashes, not {tile.width}")
            self._tiles[tile] = hashes
        offset = first % TILE_WIDTH
        return root_of(self._tiles[tile][offset : offset + (1 << below)])
