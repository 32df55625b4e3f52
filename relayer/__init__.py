"""The relayer: a node's finalized blocks, with proofs, into the raw stream, exactly once."""
