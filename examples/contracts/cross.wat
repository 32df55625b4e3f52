;; Cross-contract calls and instantiation, hand-written with ink! 4's ABI.
;;   constructor default()                                            0xed4b9d1b
;;   message forward(callee: AccountId, input: Vec<u8>) -> (u32, Vec<u8>)     0x45753c2b
;;       seal1.call (no flags, all gas, no value); answers the return code and the output
;;   message deploy_child(code_hash: Hash, input: Vec<u8>, salt: Vec<u8>) -> (u32, AccountId)
;;                                                                    0x0c0120d6
;;       seal1.instantiate (all gas, no value); the address is zero unless it succeeded
;;   message recurse(depth: u32, flags: u32) -> u32                   0x6f815c62
;;       stores depth under key `depth` (u32 LE), then, if depth > 0, calls itself with
;;       recurse(depth - 1, flags) using call flags `flags`; answers the inner return code.
;; Vec<u8> arguments use SCALE compact lengths (1- and 2-byte modes; longer ones revert).
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $seal_return (param i32 i32 i32)))
  (import "seal0" "address" (func $address (param i32 i32)))
  (import "seal1" "call" (func $call (param i32 i32 i64 i32 i32 i32 i32 i32) (result i32)))
  (import "seal1" "instantiate"
    (func $instantiate (param i32 i64 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "seal2" "set_storage" (func $set_storage (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 2 16))

  ;; 0 zero u128 (value) · 16 length cell · 20 second length cell · 32 own address
  ;; 64 recurse input (12) · 96 child address (32) · 128 depth value (4)
  ;; 1024 input (8 KiB) · 16384 callee output (8 KiB) · 32768 answer

  (func $could_not_read_input
    (i32.store16 (i32.const 32768) (i32.const 0x0101))
    (call $seal_return (i32.const 1) (i32.const 32768) (i32.const 2)))

  ;; the compact length at $at (1- or 2-byte mode, else revert)
  (func $compact (param $at i32) (result i32)
    (local $b i32)
    (local.set $b (i32.load8_u (local.get $at)))
    (if (i32.eqz (i32.and (local.get $b) (i32.const 3)))
      (then (return (i32.shr_u (local.get $b) (i32.const 2)))))
    (if (i32.eq (i32.and (local.get $b) (i32.const 3)) (i32.const 1))
      (then (return (i32.shr_u (i32.load16_u (local.get $at)) (i32.const 2)))))
    (call $could_not_read_input)
    (unreachable))

  (func $compact_size (param $n i32) (result i32)
    (select (i32.const 1) (i32.const 2) (i32.lt_u (local.get $n) (i32.const 64))))

  ;; write compact($n) at $at, return its size (n < 16384)
  (func $put_compact (param $at i32) (param $n i32) (result i32)
    (if (i32.lt_u (local.get $n) (i32.const 64))
      (then (i32.store8 (local.get $at) (i32.shl (local.get $n) (i32.const 2))) (return (i32.const 1))))
    (if (i32.ge_u (local.get $n) (i32.const 16384)) (then unreachable))
    (i32.store16 (local.get $at) (i32.or (i32.shl (local.get $n) (i32.const 2)) (i32.const 1)))
    (i32.const 2))

  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  (func $forward (param $len i32)
    (local $in_len i32) (local $code i32) (local $out_len i32) (local $head i32)
    (local.set $in_len (call $compact (i32.const 1060)))
    (if (i32.ne (local.get $len)
          (i32.add (i32.add (i32.const 36) (call $compact_size (local.get $in_len))) (local.get $in_len)))
      (then (call $could_not_read_input)))
    (i32.store (i32.const 16) (i32.const 8192))
    (local.set $code
      (call $call (i32.const 0) (i32.const 1028) (i64.const 0) (i32.const 0)
        (i32.add (i32.const 1060) (call $compact_size (local.get $in_len))) (local.get $in_len)
        (i32.const 16384) (i32.const 16)))
    (local.set $out_len (select (i32.load (i32.const 16)) (i32.const 0)
      (i32.le_u (local.get $code) (i32.const 2))))
    (i32.store8 (i32.const 32768) (i32.const 0))
    (i32.store (i32.const 32769) (local.get $code))
    (local.set $head (i32.add (i32.const 5) (call $put_compact (i32.const 32773) (local.get $out_len))))
    (call $copy (i32.add (i32.const 32768) (local.get $head)) (i32.const 16384) (local.get $out_len))
    (call $seal_return (i32.const 0) (i32.const 32768) (i32.add (local.get $head) (local.get $out_len))))

  (func $deploy_child (param $len i32)
    (local $in_len i32) (local $in_at i32) (local $salt_at i32) (local $salt_len i32) (local $code i32)
    (local.set $in_len (call $compact (i32.const 1060)))
    (local.set $in_at (i32.add (i32.const 1060) (call $compact_size (local.get $in_len))))
    (local.set $salt_at (i32.add (local.get $in_at) (local.get $in_len)))
    (local.set $salt_len (call $compact (local.get $salt_at)))
    (local.set $salt_at (i32.add (local.get $salt_at) (call $compact_size (local.get $salt_len))))
    (if (i32.ne (i32.add (i32.const 1024) (local.get $len)) (i32.add (local.get $salt_at) (local.get $salt_len)))
      (then (call $could_not_read_input)))
    (i32.store (i32.const 16) (i32.const 32))
    (i32.store (i32.const 20) (i32.const 8192))
    (local.set $code
      (call $instantiate (i32.const 1028) (i64.const 0) (i32.const 0)
        (local.get $in_at) (local.get $in_len) (i32.const 96) (i32.const 16)
        (i32.const 16384) (i32.const 20) (local.get $salt_at) (local.get $salt_len)))
    (i32.store8 (i32.const 32768) (i32.const 0))
    (i32.store (i32.const 32769) (local.get $code))
    (if (local.get $code)
      (then
        (i64.store (i32.const 96) (i64.const 0)) (i64.store (i32.const 104) (i64.const 0))
        (i64.store (i32.const 112) (i64.const 0)) (i64.store (i32.const 120) (i64.const 0))))
    (call $copy (i32.const 32773) (i32.const 96) (i32.const 32))
    (call $seal_return (i32.const 0) (i32.const 32768) (i32.const 37)))

  (func $recurse (param $len i32)
    (local $depth i32) (local $code i32)
    (if (i32.ne (local.get $len) (i32.const 12)) (then (call $could_not_read_input)))
    (local.set $depth (i32.load (i32.const 1028)))
    (i32.store (i32.const 128) (local.get $depth))
    (drop (call $set_storage (i32.const 1028) (i32.const 4) (i32.const 128) (i32.const 4)))
    (if (local.get $depth)
      (then
        (i32.store (i32.const 16) (i32.const 32))
        (call $address (i32.const 32) (i32.const 16))
        (i32.store (i32.const 64) (i32.const 0x625c816f))
        (i32.store (i32.const 68) (i32.sub (local.get $depth) (i32.const 1)))
        (i32.store (i32.const 72) (i32.load (i32.const 1032)))
        (i32.store (i32.const 16) (i32.const 8192))
        (local.set $code
          (call $call (i32.load (i32.const 1032)) (i32.const 32) (i64.const 0) (i32.const 0)
            (i32.const 64) (i32.const 12) (i32.const 16384) (i32.const 16)))))
    (i32.store8 (i32.const 32768) (i32.const 0))
    (i32.store (i32.const 32769) (local.get $code))
    (call $seal_return (i32.const 0) (i32.const 32768) (i32.const 5)))

  (func (export "deploy")
    (i32.store (i32.const 16) (i32.const 8192))
    (call $input (i32.const 1024) (i32.const 16))
    (if (i32.or (i32.ne (i32.load (i32.const 16)) (i32.const 4))
                (i32.ne (i32.load (i32.const 1024)) (i32.const 0x1b9d4bed)))
      (then (call $could_not_read_input)))
    (i32.store16 (i32.const 32768) (i32.const 0))
    (call $seal_return (i32.const 0) (i32.const 32768) (i32.const 2)))

  (func (export "call")
    (local $len i32) (local $selector i32)
    (i32.store (i32.const 16) (i32.const 8192))
    (call $input (i32.const 1024) (i32.const 16))
    (local.set $len (i32.load (i32.const 16)))
    (if (i32.lt_u (local.get $len) (i32.const 4)) (then (call $could_not_read_input)))
    (local.set $selector (i32.load (i32.const 1024)))
    (if (i32.and (i32.eq (local.get $selector) (i32.const 0x2b3c7545))
                 (i32.ge_u (local.get $len) (i32.const 37)))
      (then (call $forward (local.get $len))))
    (if (i32.and (i32.eq (local.get $selector) (i32.const 0xd620010c))
                 (i32.ge_u (local.get $len) (i32.const 38)))
      (then (call $deploy_child (local.get $len))))
    (if (i32.eq (local.get $selector) (i32.const 0x625c816f))
      (then (call $recurse (local.get $len))))
    (call $could_not_read_input))
)
