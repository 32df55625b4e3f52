"""Pink's key handling: Phala's HKDF derivation and the signature schemes of the extension.

- `derive_secret(secret, parts)`: HKDF-SHA256 with the PoC-4 genesis hash as salt over the
  64-byte schnorrkel secret, info = the concatenated parts, 32 bytes out, used as an sr25519
  mini secret expanded the Ed25519 way (`phala-crypto/src/sr25519.rs`, PINK.md 7.7).
- `sign` / `verify` / `public_key` follow sp_core's pairs as the extension uses them
  (`Pair::from_seed_slice`): Ed25519 from a 32-byte seed, Sr25519 from a 32-byte mini secret or
  a 64-byte secret, ECDSA (secp256k1) from a 32-byte seed signing blake2_256 of the message,
  65-byte recoverable signatures.
"""

from __future__ import annotations

import hashlib
import hmac

import coincurve
import nacl.exceptions
import nacl.signing
import sr25519

from pinkpipe.chain.hashing import blake2_256

PHALA_HKDF_SALT = bytes.fromhex("18e876adfa74cc743b4b7d7f92c96e03de559a3c15270581fce445963d90f85e")
ED25519, SR25519, ECDSA = 0, 1, 2


class BadKey(ValueError):
    """A key, public key or signature of the wrong length or not a valid point/scalar."""


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 extract-and-expand."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block = b"", b""
    counter = 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def expand_mini_secret(mini: bytes) -> bytes:
    """schnorrkel `MiniSecretKey::expand(ExpansionMode::Ed25519)` as 64 bytes key ‖ nonce."""
    digest = hashlib.sha512(mini).digest()
    key = bytearray(digest[:32])
    key[0] &= 248
    key[31] &= 63
    key[31] |= 64
    return (int.from_bytes(key, "little") >> 3).to_bytes(32, "little") + digest[32:]


def derive_secret(secret: bytes, parts: list[bytes]) -> bytes:
    return expand_mini_secret(hkdf_sha256(secret, PHALA_HKDF_SALT, b"".join(parts)))


def _sr25519_secret(key: bytes) -> bytes:
    if len(key) == 32:
        return expand_mini_secret(key)
    if len(key) == 64:
        return key
    raise BadKey(f"an sr25519 key is 32 or 64 bytes, not {len(key)}")


def _seed(key: bytes, scheme: str) -> bytes:
    if len(key) != 32:
        raise BadKey(f"an {scheme} seed is 32 bytes, not {len(key)}")
    return key


def public_key(sig_type: int, key: bytes) -> bytes:
    if sig_type == ED25519:
        return bytes(nacl.signing.SigningKey(_seed(key, "ed25519")).verify_key)
    if sig_type == SR25519:
        try:
            return bytes(sr25519.public_from_secret_key(_sr25519_secret(key)))
        except ValueError as e:
            raise BadKey(f"invalid sr25519 secret: {e}") from e
    return _ecdsa_key(key).public_key.format(compressed=True)


def _ecdsa_key(key: bytes) -> coincurve.PrivateKey:
    try:
        return coincurve.PrivateKey(_seed(key, "ecdsa"))
    except ValueError as e:
        raise BadKey(f"invalid secp256k1 secret: {e}") from e


def ecdsa_sign_prehashed(key: bytes, message_hash: bytes) -> bytes:
    """RFC 6979 deterministic, low-s, r ‖ s ‖ recovery id (libsecp256k1, as sp_core)."""
    return _ecdsa_key(key).sign_recoverable(message_hash, hasher=None)


def ecdsa_recover(signature: bytes, message_hash: bytes) -> bytes | None:
    """sp_io `secp256k1_ecdsa_recover_compressed`: the 33-byte key, or None; v is 0-3 or 27-30."""
    recovery = bytearray(signature)
    if recovery[64] >= 27:
        recovery[64] -= 27
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            bytes(recovery), message_hash, hasher=None
        )
    except Exception:  # coincurve raises plain Exception for unrecoverable signatures
        return None
    return key.format(compressed=True)


def ecdsa_verify_prehashed(signature: bytes, message_hash: bytes, public: bytes) -> bool:
    if len(signature) != 65 or len(public) != 33:
        raise BadKey("an ECDSA signature is 65 bytes and a public key 33")
    return ecdsa_recover(signature, message_hash) == public


def sign(sig_type: int, key: bytes, message: bytes) -> bytes:
    if sig_type == ED25519:
        return nacl.signing.SigningKey(_seed(key, "ed25519")).sign(message).signature
    if sig_type == SR25519:
        secret = _sr25519_secret(key)
        return bytes(sr25519.sign((public_key(SR25519, secret), secret), message))
    return ecdsa_sign_prehashed(key, blake2_256(message))


def verify(sig_type: int, public: bytes, message: bytes, signature: bytes) -> bool:
    if sig_type == ECDSA:
        return ecdsa_verify_prehashed(signature, blake2_256(message), public)
    if len(public) != 32 or len(signature) != 64:
        raise BadKey("an ed25519/sr25519 public key is 32 bytes and a signature 64")
    if sig_type == SR25519:
        try:
            return bool(sr25519.verify(signature, message, public))
        except ValueError:  # not a schnorrkel signature or point: sp_core answers false
            return False
    try:
        nacl.signing.VerifyKey(public).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True
