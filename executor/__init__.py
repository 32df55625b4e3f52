"""The Pink contract runtime: Phala's Pink 1.2 (pallet-contracts v1.5) on wasmtime, pure.

A cluster is a `runtime.PinkRuntime`: its ecalls (setup, deposit, upload_code,
contract_instantiate, contract_call, ...) run against one journaled `state.State` through
`ledger.Ledger` (balances, code, contracts, storage, cluster parameters), and return an
`Outcome` (result in pallet-contracts' layout, event records, state changes, side effects).

- `wasm` parses modules deep enough for the upload checks of `engine` (PINK.md 2.1, 3.4);
  `engine` holds the wasmtime Engine, the Linker with every host function and the compiled
  modules by code hash.
- `stack` runs one call stack: frames as state snapshots, reentrancy, call depth, value
  transfers, instantiation, termination; `host` is the host functions, one per
  pallet-contracts name; `extension` and `keys` the Pink chain extension.
- `gas` bridges wasm fuel and the Schedule's weights (`schedule`); `deposit` is v1.5's storage
  meter; `events` and `results` are the SCALE shapes the chain uses.

No I/O here: HTTP, clocks and randomness (queries only) come from an injected backend, compiled
modules can be kept through an injected store.
"""
