"""finality-grandpa's vote graph, reduced to what `validate_commit` needs: precommits only.

Substrate decides whether a commit is valid by importing its precommits into a `Round` and
asking for the precommit-GHOST (finality-grandpa `src/round.rs`, `src/vote_graph.rs`). The
GHOST is not simply "the highest block with enough weight": the graph keeps only vote-nodes
(voted blocks and the fork points between them), searches descendants in insertion order and
merge points by hash order, and trusts the block numbers voters claim. Accepting exactly the
commits a node accepts means replaying that algorithm, so this module follows it step by step
(same node splitting, same iteration orders) rather than computing GHOST some other way.

Votes are bitmasks over voter positions (finality-grandpa's `Bitfield`, precommit bits only);
an equivocator's bit is OR-ed into every node's weight (`round/context.rs`, `Context::weight`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence

from pinkpipe.chain.header import Header

Condition = Callable[[int], bool]


class NotDescendant(Exception):
    """finality-grandpa's `Error::NotDescendent`: no ancestry route to the base."""


class AncestryChain:
    """The `finality_grandpa::Chain` built from a justification's `votes_ancestries`.

    Substrate's `AncestryChain` (client/consensus/grandpa `justification.rs`): blocks are known
    only by hash; walking from a block follows parent hashes through the supplied headers until
    the base. Numbers are not consulted, exactly as in Substrate.
    """

    __slots__ = ("_reaches", "headers")

    def __init__(self, headers: Sequence[Header]) -> None:
        self.headers: dict[bytes, Header] = {h.hash(): h for h in headers}
        self._reaches: dict[bytes, dict[bytes, bool]] = {}

    def ancestry(self, base: bytes, block: bytes) -> list[bytes]:
        """Hashes from `block`'s parent down to (excluding) `base`; NotDescendant if unlinked."""
        route: list[bytes] = []
        current = block
        # A walk longer than the header count would revisit a header: no route exists.
        for _ in range(len(self.headers) + 1):
            if current == base:
                if route:
                    route.pop()
                return route
            header = self.headers.get(current)
            if header is None:
                break
            current = header.parent_hash
            route.append(current)
        raise NotDescendant

    def is_equal_or_descendant_of(self, base: bytes, block: bytes) -> bool:
        """Whether `ancestry(base, block)` would succeed; walks are memoized per base, so
        many precommits on one long chain cost one walk, not one each."""
        known = self._reaches.setdefault(base, {})
        walked: list[bytes] = []
        current = block
        reaches = False
        for _ in range(len(self.headers) + 1):
            if current == base:
                reaches = True
                break
            if current in known:
                reaches = known[current]
                break
            header = self.headers.get(current)
            if header is None:
                break
            walked.append(current)
            current = header.parent_hash
        for h in walked:
            known[h] = reaches
        return reaches


class _Entry:
    """A vote-node: its number, the blocks down to the previous vote-node, votes below it."""

    __slots__ = ("ancestors", "descendants", "number", "votes")

    def __init__(self, number: int, ancestors: list[bytes]) -> None:
        self.number = number
        self.ancestors = ancestors  # parent first; the last one is the ancestor vote-node
        self.descendants: list[bytes] = []
        self.votes = 0  # cumulative vote bits of this node and everything above it

    def ancestor_block(self, number: int) -> bytes | None:
        if number >= self.number:
            return None
        offset = self.number - number - 1
        return self.ancestors[offset] if offset < len(self.ancestors) else None

    def in_direct_ancestry(self, block: bytes, number: int) -> bool | None:
        ancestor = self.ancestor_block(number)
        return None if ancestor is None else ancestor == block

    def ancestor_node(self) -> bytes | None:
        return self.ancestors[-1] if self.ancestors else None


class VoteGraph:
    """A DAG of vote-nodes rooted at the round base (finality-grandpa `VoteGraph`)."""

    __slots__ = ("base", "entries", "heads")

    def __init__(self, base_hash: bytes, base_number: int) -> None:
        self.base = base_hash
        self.entries: dict[bytes, _Entry] = {base_hash: _Entry(base_number, [])}
        self.heads: set[bytes] = {base_hash}

    def insert(self, block: bytes, number: int, vote: int, chain: AncestryChain) -> None:
        """Add `vote` bits to `block` and every vote-node below it, creating nodes as needed."""
        containing = self._containing_nodes(block, number)
        if containing is not None:
            if containing:
                self._introduce_branch(containing, block, number)
            else:
                self._append(block, number, chain)
        inspecting: bytes | None = block
        while inspecting is not None:
            entry = self.entries[inspecting]
            entry.votes |= vote
            inspecting = entry.ancestor_node()

    def _containing_nodes(self, block: bytes, number: int) -> list[bytes] | None:
        """None if `block` is a vote-node, else the vote-nodes whose ancestor edge holds it.

        Heads are visited in hash order, as Rust's `BTreeSet` iterates them; the order decides
        the order of descendants of a node introduced later, hence GHOST tie-breaks.
        """
        if block in self.entries:
            return None
        containing: list[bytes] = []
        visited: set[bytes] = set()
        for head in sorted(self.heads):
            current: bytes | None = head
            while current is not None:
                entry = self.entries.get(current)
                if entry is None or current in visited:
                    break
                visited.add(current)
                found = entry.in_direct_ancestry(block, number)
                if found is None:
                    current = entry.ancestor_node()
                    continue
                if found:
                    containing.append(current)
                break
        return containing

    def _introduce_branch(self, descendants: list[bytes], block: bytes, number: int) -> None:
        """Split the ancestor edges of `descendants` at `block`, making it a vote-node."""
        new_entry: _Entry | None = None
        previous_node: bytes | None = None
        for descendant in descendants:
            entry = self.entries[descendant]
            offset = entry.number - number
            if new_entry is None:
                previous_node = entry.ancestor_node()
                new_entry = _Entry(number, entry.ancestors[offset:])
            del entry.ancestors[offset:]
            new_entry.descendants.append(descendant)
            new_entry.votes |= entry.votes
        if new_entry is None:
            return
        if previous_node is not None:
            previous = self.entries[previous_node]
            previous.descendants = [
                d for d in previous.descendants if d not in new_entry.descendants
            ]
            previous.descendants.append(block)
        self.entries[block] = new_entry

    def _append(self, block: bytes, number: int, chain: AncestryChain) -> None:
        """Add `block` as a new head below the nearest vote-node on its route to the base."""
        ancestry = chain.ancestry(self.base, block)
        ancestry.append(self.base)
        for index, ancestor in enumerate(ancestry):
            entry = self.entries.get(ancestor)
            if entry is not None:
                entry.descendants.append(block)
                del ancestry[index + 1 :]
                break
        self.entries[block] = _Entry(number, ancestry)
        self.heads.discard(ancestry[-1])
        self.heads.add(block)

    def find_ghost(self, condition: Condition) -> tuple[bytes, int] | None:
        """The GHOST from the base (`find_ghost` with no current best), or None."""
        node_key = self.base
        node = self.entries[node_key]
        if not condition(node.votes):
            return None
        while True:
            for descendant in node.descendants:
                child = self.entries[descendant]
                if condition(child.votes):
                    node_key, node = descendant, child
                    break
            else:
                break
        return self._merge_point(node_key, node, condition)

    def _merge_point(self, key: bytes, node: _Entry, condition: Condition) -> tuple[bytes, int]:
        """The highest block above `node` where its descendants' votes together pass
        (`ghost_find_merge_point`); blocks are merged in hash order, first pass wins."""
        descendants = [self.entries[d] for d in node.descendants]
        best_hash, best_number = key, node.number
        offset = 0
        while True:
            offset += 1
            blocks: list[bytes] = []
            votes: list[int] = []
            new_best = None
            for child in descendants:
                block = child.ancestor_block(node.number + offset)
                if block is None:
                    continue
                index = bisect_left(blocks, block)
                if index < len(blocks) and blocks[index] == block:
                    votes[index] |= child.votes
                    if condition(votes[index]):
                        new_best = block
                        break
                else:
                    blocks.insert(index, block)
                    votes.insert(index, child.votes)
            if new_best is None:
                return best_hash, best_number
            best_number += 1
            best_hash = new_best
            descendants = [
                c for c in descendants if c.in_direct_ancestry(new_best, best_number) is True
            ]
