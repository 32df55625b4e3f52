;; An ERC-20 token, hand-written with ink! 4's ABI: selectors, storage keys, outputs and the
;; `Transfer` event are byte-for-byte those of ink!'s `erc20` example compiled with ink! 4
;; (allowances are left out: no approve / transfer_from / allowance).
;;   constructor new(total_supply: u128)                     0x9bae9d5e
;;   message total_supply() -> u128                          0xdb6375a8
;;   message balance_of(owner: AccountId) -> u128            0x0f755a56
;;   message transfer(to: AccountId, value: u128) -> Result<(), Error>   0x84a15da1
;; Storage: root key 0x00000000 = total_supply (u128); balances = Mapping with root key
;; 0x2623dce7, entry key = its u32 LE bytes (e7 dc 23 26) ‖ account.
;; Event Transfer{#[topic] from: Option<AccountId>, #[topic] to: Option<AccountId>, value}:
;; data = 00 (variant) ‖ from ‖ to ‖ value; topics = [00 ‖ "Erc20::Transfer" (padded),
;; topic(from), topic(to)] where topic(x) = SCALE(prefix) ‖ SCALE(x) padded to 32 bytes when it
;; fits, else its blake2_256 (prefixes "Erc20::Transfer::from" / "Erc20::Transfer::to").
;; transfer with too little balance reverts with Ok(Err(InsufficientBalance)) = 00 01 00.
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $seal_return (param i32 i32 i32)))
  (import "seal0" "value_transferred" (func $value_transferred (param i32 i32)))
  (import "seal0" "caller" (func $caller (param i32 i32)))
  (import "seal0" "hash_blake2_256" (func $hash_blake2_256 (param i32 i32 i32)))
  (import "seal0" "deposit_event" (func $deposit_event (param i32 i32 i32 i32)))
  (import "seal1" "get_storage" (func $get_storage (param i32 i32 i32 i32) (result i32)))
  (import "seal2" "set_storage" (func $set_storage (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 16))

  ;; 0 root key · 8 length cell · 16 u128 A · 32 u128 B · 48 caller · 96 balance key (36)
  ;; 160 topics (97) · 272 event data (83) · 384 topic preimage (55) · 512 constants
  ;; 1024 input (1 KiB) · 2048 output
  (data (i32.const 0) "\00\00\00\00")
  (data (i32.const 96) "\e7\dc\23\26")
  (data (i32.const 512) "\00Erc20::Transfer")
  (data (i32.const 544) "\54Erc20::Transfer::from")
  (data (i32.const 576) "\4cErc20::Transfer::to")

  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  (func $zero (param $dst i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (local.get $dst) (i32.const 0))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  (func $read_input (result i32)
    (i32.store (i32.const 8) (i32.const 1024))
    (call $input (i32.const 1024) (i32.const 8))
    (i32.load (i32.const 8)))

  (func $not_payable
    (i32.store (i32.const 8) (i32.const 16))
    (call $value_transferred (i32.const 16) (i32.const 8))
    (if (i32.or (i64.ne (i64.load (i32.const 16)) (i64.const 0))
                (i64.ne (i64.load (i32.const 24)) (i64.const 0)))
      (then unreachable)))

  (func $load_caller
    (i32.store (i32.const 8) (i32.const 32))
    (call $caller (i32.const 48) (i32.const 8)))

  ;; balance of the account at $account into A (zero when absent)
  (func $get_balance (param $account i32)
    (call $copy (i32.const 100) (local.get $account) (i32.const 32))
    (i32.store (i32.const 8) (i32.const 16))
    (if (call $get_storage (i32.const 96) (i32.const 36) (i32.const 16) (i32.const 8))
      (then (i64.store (i32.const 16) (i64.const 0)) (i64.store (i32.const 24) (i64.const 0)))))

  (func $set_balance (param $account i32) (param $lo i64) (param $hi i64)
    (call $copy (i32.const 100) (local.get $account) (i32.const 32))
    (i64.store (i32.const 32) (local.get $lo))
    (i64.store (i32.const 40) (local.get $hi))
    (drop (call $set_storage (i32.const 96) (i32.const 36) (i32.const 32) (i32.const 16))))

  ;; topic of Option<AccountId> ($account = -1 for None) under a SCALE-encoded prefix
  (func $topic (param $out i32) (param $prefix i32) (param $prefix_len i32) (param $account i32)
    (if (i32.eq (local.get $account) (i32.const -1))
      (then
        (call $zero (local.get $out) (i32.const 32))
        (call $copy (local.get $out) (local.get $prefix) (local.get $prefix_len))
        (return)))
    (call $copy (i32.const 384) (local.get $prefix) (local.get $prefix_len))
    (i32.store8 (i32.add (i32.const 384) (local.get $prefix_len)) (i32.const 1))
    (call $copy (i32.add (i32.const 385) (local.get $prefix_len)) (local.get $account) (i32.const 32))
    (call $hash_blake2_256
      (i32.const 384) (i32.add (local.get $prefix_len) (i32.const 33)) (local.get $out)))

  ;; SCALE Option<AccountId> at $at; returns the position after it
  (func $put_option (param $at i32) (param $account i32) (result i32)
    (if (i32.eq (local.get $account) (i32.const -1))
      (then (i32.store8 (local.get $at) (i32.const 0)) (return (i32.add (local.get $at) (i32.const 1)))))
    (i32.store8 (local.get $at) (i32.const 1))
    (call $copy (i32.add (local.get $at) (i32.const 1)) (local.get $account) (i32.const 32))
    (i32.add (local.get $at) (i32.const 33)))

  (func $emit_transfer (param $from i32) (param $to i32) (param $lo i64) (param $hi i64)
    (local $end i32)
    (i32.store8 (i32.const 160) (i32.const 12))  ;; compact(3)
    (call $zero (i32.const 161) (i32.const 32))
    (call $copy (i32.const 161) (i32.const 512) (i32.const 16))
    (call $topic (i32.const 193) (i32.const 544) (i32.const 22) (local.get $from))
    (call $topic (i32.const 225) (i32.const 576) (i32.const 20) (local.get $to))
    (i32.store8 (i32.const 272) (i32.const 0))
    (local.set $end (call $put_option (i32.const 273) (local.get $from)))
    (local.set $end (call $put_option (local.get $end) (local.get $to)))
    (i64.store (local.get $end) (local.get $lo))
    (i64.store (i32.add (local.get $end) (i32.const 8)) (local.get $hi))
    (call $deposit_event (i32.const 160) (i32.const 97)
      (i32.const 272) (i32.sub (i32.add (local.get $end) (i32.const 16)) (i32.const 272))))

  (func $answer (param $flags i32) (param $len i32)
    (call $seal_return (local.get $flags) (i32.const 2048) (local.get $len)))

  (func $could_not_read_input
    (i32.store16 (i32.const 2048) (i32.const 0x0101))
    (call $answer (i32.const 1) (i32.const 2)))

  ;; 00 ‖ A as the output of a u128 message
  (func $answer_a
    (i32.store8 (i32.const 2048) (i32.const 0))
    (call $copy (i32.const 2049) (i32.const 16) (i32.const 16))
    (call $answer (i32.const 0) (i32.const 17)))

  (func (export "deploy")
    (local $lo i64) (local $hi i64)
    (call $not_payable)
    (if (i32.or (i32.ne (call $read_input) (i32.const 20))
                (i32.ne (i32.load (i32.const 1024)) (i32.const 0x5e9dae9b)))
      (then (call $could_not_read_input)))
    (local.set $lo (i64.load (i32.const 1028)))
    (local.set $hi (i64.load (i32.const 1036)))
    (call $load_caller)
    (call $set_balance (i32.const 48) (local.get $lo) (local.get $hi))
    (call $emit_transfer (i32.const -1) (i32.const 48) (local.get $lo) (local.get $hi))
    (i64.store (i32.const 32) (local.get $lo))
    (i64.store (i32.const 40) (local.get $hi))
    (drop (call $set_storage (i32.const 0) (i32.const 4) (i32.const 32) (i32.const 16)))
    (i32.store16 (i32.const 2048) (i32.const 0))
    (call $answer (i32.const 0) (i32.const 2)))

  (func $transfer
    (local $lo i64) (local $hi i64) (local $from_lo i64) (local $from_hi i64)
    (local $sum_lo i64) (local $sum_hi i64)
    (local.set $lo (i64.load (i32.const 1060)))
    (local.set $hi (i64.load (i32.const 1068)))
    (call $load_caller)
    (call $get_balance (i32.const 48))
    (local.set $from_lo (i64.load (i32.const 16)))
    (local.set $from_hi (i64.load (i32.const 24)))
    (if (i32.or (i64.lt_u (local.get $from_hi) (local.get $hi))
                (i32.and (i64.eq (local.get $from_hi) (local.get $hi))
                         (i64.lt_u (local.get $from_lo) (local.get $lo))))
      (then
        (i32.store16 (i32.const 2048) (i32.const 0x0100))
        (i32.store8 (i32.const 2050) (i32.const 0))
        (call $answer (i32.const 1) (i32.const 3))))
    (call $set_balance (i32.const 48)
      (i64.sub (local.get $from_lo) (local.get $lo))
      (i64.sub (i64.sub (local.get $from_hi) (local.get $hi))
               (i64.extend_i32_u (i64.lt_u (local.get $from_lo) (local.get $lo)))))
    (call $get_balance (i32.const 1028))
    (local.set $sum_lo (i64.add (i64.load (i32.const 16)) (local.get $lo)))
    (local.set $sum_hi
      (i64.add (i64.add (i64.load (i32.const 24)) (local.get $hi))
               (i64.extend_i32_u (i64.lt_u (local.get $sum_lo) (local.get $lo)))))
    (if (i64.lt_u (local.get $sum_hi) (i64.load (i32.const 24))) (then unreachable))  ;; overflow
    (call $set_balance (i32.const 1028) (local.get $sum_lo) (local.get $sum_hi))
    (call $emit_transfer (i32.const 48) (i32.const 1028) (local.get $lo) (local.get $hi))
    (i32.store16 (i32.const 2048) (i32.const 0))
    (call $answer (i32.const 0) (i32.const 2)))

  (func (export "call")
    (local $len i32) (local $selector i32)
    (call $not_payable)
    (local.set $len (call $read_input))
    (if (i32.lt_u (local.get $len) (i32.const 4)) (then (call $could_not_read_input)))
    (local.set $selector (i32.load (i32.const 1024)))
    ;; total_supply(): db 63 75 a8
    (if (i32.and (i32.eq (local.get $selector) (i32.const 0xa87563db)) (i32.eq (local.get $len) (i32.const 4)))
      (then
        (i32.store (i32.const 8) (i32.const 16))
        (if (call $get_storage (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 8))
          (then unreachable))
        (call $answer_a)))
    ;; balance_of(owner): 0f 75 5a 56
    (if (i32.and (i32.eq (local.get $selector) (i32.const 0x565a750f)) (i32.eq (local.get $len) (i32.const 36)))
      (then (call $get_balance (i32.const 1028)) (call $answer_a)))
    ;; transfer(to, value): 84 a1 5d a1
    (if (i32.and (i32.eq (local.get $selector) (i32.const 0xa15da184)) (i32.eq (local.get $len) (i32.const 52)))
      (then (call $transfer)))
    (call $could_not_read_input))
)
