"""The event store: Pink event blocks in SQL (SQLite or PostgreSQL), checked on write.

- `config.StoreSettings`: where the database is (a SQLite file under the data dir by default).
- `db.open_engine`: an engine with the pragmas and error mapping the store relies on.
- `models`: the tables (clusters, event blocks, events, contracts, ABIs, stage checkpoints).
- `writer.EventWriter`: appends event blocks per cluster with the caller's checkpoint in one
  transaction; the parent must be the stored head, repeats are no-ops, nothing is overwritten.
- `reader.EventReader`: head, get, list (filters, cursor pages), tail, verify, export.

Errors (`errors.py`) sit under pinkpipe's root by whose fault: `RejectedEventBlock` (invalid
data: broken link, conflicting block, bad body hash), `StoreUnavailable` and `NotStored`
(operational: the database failed, an unknown cluster or block), `BadQuery` (bad usage).
"""
