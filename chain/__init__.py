"""The chain's data model shared by every stage: codecs, hashing, keys, trie. No I/O."""
