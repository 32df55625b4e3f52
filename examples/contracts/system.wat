;; A minimal Pink system contract, hand-written with ink! 4's ABI: enough for cluster setup.
;;   constructor default()                       0xed4b9d1b (what `setup` instantiates)
;;   message System::version() -> (u16, u16, u16) 0x70b2849c (ink! trait selector)
;;   message System::owner() -> AccountId        0x840e69bd
;; Storage: root key 0x00000000 holds the owner (the account that deployed it).
;; Unknown selectors revert with Err(LangError::CouldNotReadInput) = 01 01.
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $seal_return (param i32 i32 i32)))
  (import "seal0" "caller" (func $caller (param i32 i32)))
  (import "seal1" "get_storage" (func $get_storage (param i32 i32 i32 i32) (result i32)))
  (import "seal2" "set_storage" (func $set_storage (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 16))

  ;; 0 root key · 8 length cell · 16 version answer · 64 input · 2048 output (00 ‖ owner)
  (data (i32.const 0) "\00\00\00\00")
  (data (i32.const 16) "\00\01\00\00\00\00\00")  ;; Ok((1, 0, 0))

  (func $read_input (result i32)
    (i32.store (i32.const 8) (i32.const 1024))
    (call $input (i32.const 64) (i32.const 8))
    (i32.load (i32.const 8)))

  (func $could_not_read_input
    (i32.store16 (i32.const 2048) (i32.const 0x0101))
    (call $seal_return (i32.const 1) (i32.const 2048) (i32.const 2)))

  (func (export "deploy")
    (if (i32.or (i32.ne (call $read_input) (i32.const 4))
                (i32.ne (i32.load (i32.const 64)) (i32.const 0x1b9d4bed)))
      (then (call $could_not_read_input)))
    (i32.store (i32.const 8) (i32.const 32))
    (call $caller (i32.const 2049) (i32.const 8))
    (drop (call $set_storage (i32.const 0) (i32.const 4) (i32.const 2049) (i32.const 32)))
    (i32.store16 (i32.const 2048) (i32.const 0))
    (call $seal_return (i32.const 0) (i32.const 2048) (i32.const 2)))

  (func (export "call")
    (local $selector i32)
    (if (i32.ne (call $read_input) (i32.const 4)) (then (call $could_not_read_input)))
    (local.set $selector (i32.load (i32.const 64)))
    (if (i32.eq (local.get $selector) (i32.const 0x9c84b270))
      (then (call $seal_return (i32.const 0) (i32.const 16) (i32.const 7))))
    (if (i32.eq (local.get $selector) (i32.const 0xbd690e84))
      (then
        (i32.store8 (i32.const 2048) (i32.const 0))
        (i32.store (i32.const 8) (i32.const 32))
        (if (call $get_storage (i32.const 0) (i32.const 4) (i32.const 2049) (i32.const 8))
          (then unreachable))
        (call $seal_return (i32.const 0) (i32.const 2048) (i32.const 33))))
    (call $could_not_read_input))
)
