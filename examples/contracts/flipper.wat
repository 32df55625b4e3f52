;; Flipper, hand-written with ink! 4's ABI (same selectors, storage key and outputs as ink!'s
;; `flipper` example compiled with ink! 4):
;;   constructor new(init: bool)  0x9bae9d5e     constructor default()  0xed4b9d1b
;;   message     flip()           0x633aa551     message     get() -> bool  0x2f865bd9
;; Storage: the root key 0x00000000 (ink! 4 `Key` = u32, little-endian bytes) holds the bool.
;; Outputs: constructors Ok(Ok(())) = 00 00, messages Result<T, LangError> = 00 ‖ SCALE(T);
;; an unknown selector or undecodable input reverts with Err(CouldNotReadInput) = 01 01.
;; Messages are not payable: a call carrying value traps, as ink! does.
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $seal_return (param i32 i32 i32)))
  (import "seal0" "value_transferred" (func $value_transferred (param i32 i32)))
  (import "seal1" "get_storage" (func $get_storage (param i32 i32 i32 i32) (result i32)))
  (import "seal2" "set_storage" (func $set_storage (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 16))

  ;; 0: root key; 8: length cell; 16: 16-byte value buffer; 64: input (1 KiB); 2048: output
  (data (i32.const 0) "\00\00\00\00")

  (func $read_input (result i32)
    (i32.store (i32.const 8) (i32.const 1024))
    (call $input (i32.const 64) (i32.const 8))
    (i32.load (i32.const 8)))

  (func $not_payable
    (i32.store (i32.const 8) (i32.const 16))
    (call $value_transferred (i32.const 16) (i32.const 8))
    (if (i32.or (i64.ne (i64.load (i32.const 16)) (i64.const 0))
                (i64.ne (i64.load (i32.const 24)) (i64.const 0)))
      (then unreachable)))

  (func $store (param $value i32)
    (i32.store8 (i32.const 16) (local.get $value))
    (drop (call $set_storage (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 1))))

  (func $load (result i32)
    (i32.store (i32.const 8) (i32.const 16))
    (if (call $get_storage (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 8))
      (then unreachable))
    (i32.load8_u (i32.const 16)))

  ;; seal_return(flags, output[0..len]) with output bytes b0, b1
  (func $answer (param $flags i32) (param $b0 i32) (param $b1 i32) (param $len i32)
    (i32.store8 (i32.const 2048) (local.get $b0))
    (i32.store8 (i32.const 2049) (local.get $b1))
    (call $seal_return (local.get $flags) (i32.const 2048) (local.get $len)))

  (func $could_not_read_input (call $answer (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 2)))

  (func (export "deploy")
    (local $len i32) (local $selector i32)
    (call $not_payable)
    (local.set $len (call $read_input))
    (if (i32.lt_u (local.get $len) (i32.const 4)) (then (call $could_not_read_input)))
    (local.set $selector (i32.load (i32.const 64)))
    ;; new(bool): selector bytes 9b ae 9d 5e, one bool argument
    (if (i32.and (i32.eq (local.get $selector) (i32.const 0x5e9dae9b))
                 (i32.and (i32.eq (local.get $len) (i32.const 5))
                          (i32.le_u (i32.load8_u (i32.const 68)) (i32.const 1))))
      (then
        (call $store (i32.load8_u (i32.const 68)))
        (call $answer (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 2))))
    ;; default(): ed 4b 9d 1b
    (if (i32.and (i32.eq (local.get $selector) (i32.const 0x1b9d4bed))
                 (i32.eq (local.get $len) (i32.const 4)))
      (then
        (call $store (i32.const 0))
        (call $answer (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 2))))
    (call $could_not_read_input))

  (func (export "call")
    (local $len i32) (local $selector i32)
    (call $not_payable)
    (local.set $len (call $read_input))
    (if (i32.ne (local.get $len) (i32.const 4)) (then (call $could_not_read_input)))
    (local.set $selector (i32.load (i32.const 64)))
    ;; flip(): 63 3a a5 51
    (if (i32.eq (local.get $selector) (i32.const 0x51a53a63))
      (then
        (call $store (i32.eqz (call $load)))
        (call $answer (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1))))
    ;; get(): 2f 86 5b d9
    (if (i32.eq (local.get $selector) (i32.const 0xd95b862f))
      (then (call $answer (i32.const 0) (i32.const 0) (call $load) (i32.const 2))))
    (call $could_not_read_input))
)
