"""The Merkle tree against independent known answers: transparency-dev/merkle's RFC 6962 vectors
(tests/data/rfc6962, Apache-2.0), including every case that must be rejected."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tresen.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    Tree,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "rfc6962"
TREES = json.loads((DATA / "trees.json").read_text())
LEAVES = [leaf_hash(bytes.fromhex(leaf)) for leaf in TREES["leaf_inputs_hex"]]


def b64(value: str) -> bytes:
    return base64.b64decode(value)


def vectors(kind: str) -> list:
    files = sorted((DATA / kind).rglob("*.json"))
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(DATA / kind))) for f in files]


def test_the_roots_of_every_size_match():
    roots = [root_of(LEAVES[:size]).hex() for size in range(len(TREES["root_by_tree_size_hex"]))]
    assert roots == TREES["root_by_tree_size_hex"]
    assert root_of([]) == EMPTY_ROOT


@pytest.mark.parametrize("case", vectors("inclusion"))
def test_inclusion_vectors(case):
    proof = [b64(p) for p in case["proof"] or []]
    check = lambda: verify_inclusion(  # noqa: E731
        b64(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, b64(case["root"])
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize("case", vectors("consistency"))
def test_consistency_vectors(case):
    proof = [b64(p) for p in case["proof"] or []]
    check = lambda: verify_consistency(  # noqa: E731
        case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]), proof
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_the_proofs_we_build_match_the_vectors_and_verify():
    tree = Tree.of_leaves(LEAVES)
    for case in (json.loads(f.read_text()) for f in sorted((DATA / "inclusion").rglob("*.json"))):
        if not case["wantErr"] and case["treeSize"] <= len(LEAVES):
            built = tree.inclusion_proof(case["leafIdx"], case["treeSize"])
            assert [base64.b64encode(p).decode() for p in built] == (case["proof"] or [])
    for case in (json.loads(f.read_text()) for f in sorted((DATA / "consistency").rglob("*.json"))):
        if not case["wantErr"] and case["size2"] <= len(LEAVES):
            built = tree.consistency_proof(case["size1"], case["size2"])
            assert [base64.b64encode(p).decode() for p in built] == (case["proof"] or [])


@pytest.mark.parametrize("size", range(1, 40))
def test_every_inclusion_and_consistency_proof_of_a_tree_verifies(size):
    leaves = [leaf_hash(str(n).encode()) for n in range(size)]
    tree = Tree.of_leaves(leaves)
    for index in range(size):
        verify_inclusion(leaves[index], index, size, tree.inclusion_proof(index, size), tree.root(size))
    for old in range(1, size + 1):
        verify_consistency(old, size, tree.root(old), tree.root(size), tree.consistency_proof(old, size))
    if size > 1:
        with pytest.raises(ProofError):  # another leaf at the same place
            verify_inclusion(leaves[1], 0, size, tree.inclusion_proof(0, size), tree.root(size))


def test_the_frontier_gives_the_root_at_every_size_and_every_right_edge():
    leaves = [leaf_hash(bytes([i])) for i in range(70)]
    frontier = Frontier()
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.root() == root_of(leaves[:size])
        assert len(frontier.hashes) == size.bit_count()
        for begin, _ in frontier.subtrees():
            assert frontier.right_edge(begin) == root_of(leaves[begin:size])
    assert frontier.subtrees() == [(0, 64), (64, 68), (68, 70)]


def test_a_frontier_is_restored_from_its_size_and_hashes():
    leaves = [leaf_hash(bytes([i])) for i in range(13)]
    grown = Frontier()
    for leaf in leaves[:11]:
        grown.append(leaf)
    restored = Frontier(grown.size, grown.hashes)
    for leaf in leaves[11:]:
        restored.append(leaf)
    assert restored.root() == root_of(leaves)
    with pytest.raises(ProofError):
        Frontier(11, grown.hashes[:2])
    with pytest.raises(ProofError):
        restored.right_edge(5)
