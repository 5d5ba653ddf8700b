//! C_GetOperationState and C_SetOperationState (PKCS#11 3.0 §5.6) on the
//! software token: the saved state of a session's operations, where saving
//! it is sound.
//!
//! # What can be saved
//!
//! A digest (C_DigestInit) on MD5, SHA-1, SHA-224, SHA-256, SHA-384 or
//! SHA-512: its running hash state, which holds nothing the client did not
//! give it. Everything else answers CKR_STATE_UNSAVEABLE:
//! - an active sign, verify, sign- or verify-recover, encrypt or decrypt
//!   operation (alone or beside a digest): its state holds a key or values
//!   derived from one, which would leave the token in clear;
//! - a digest that C_DigestKey fed: the hash's buffer may hold the key's
//!   bytes, and its chaining value depends on them;
//! - a SHA-3 digest: AWS-LC does not expose its Keccak state.
//!
//! With no operation active the answer is CKR_OPERATION_NOT_INITIALIZED.
//! The find operation is not a cryptographic operation and is not saved.
//!
//! # The saved state
//!
//! ```text
//! "PZst"  version (1)  kind (1 = digest)  mechanism (u32, big-endian)
//! the mechanism's state (crate::awslc::digest's format)
//! check: the first 8 bytes of SHA-256 over everything before it
//! ```
//!
//! The bytes come back from a client, so C_SetOperationState trusts none of
//! them: any difference from that layout, an unknown version, kind or
//! mechanism, a mechanism the configuration switched off, a failed check,
//! or a mechanism state that does not parse exactly is
//! CKR_SAVED_STATE_INVALID. The check catches a state damaged in storage,
//! which the field checks might accept (a changed chaining word is the
//! state of another message); it is not a MAC and needs not be: the state
//! holds no secret, and a forged one only makes the token compute a hash
//! the client could compute itself. The state carries no session, login
//! or process identity: it can be restored in another session, after the
//! first one closed, or in another process on the same version of
//! ProzHSM.

use cryptoki_sys::*;

use super::{Active, Operations};
use crate::backend::soft::session::SoftSession;
use crate::backend::Output;
use crate::error::{Result, Rv};
use crate::mechanisms::digest::Hash;
use crate::mechanisms::DigestOp;

/// The first bytes of every saved state.
const MAGIC: &[u8; 4] = b"PZst";
/// The layout of the module documentation.
const VERSION: u8 = 1;
/// The one kind of operation saved: a digest.
const KIND_DIGEST: u8 = 1;
/// The header: magic, version, kind, mechanism.
const HEADER_LEN: usize = 4 + 1 + 1 + 4;
/// The trailing check.
const CHECK_LEN: usize = 8;

impl SoftSession {
    /// C_GetOperationState (PKCS#11 3.0 §5.6): the saved state of this
    /// session's digest under the two-call convention. The operation goes
    /// on unchanged whatever the answer.
    ///
    /// # Errors
    /// CKR_STATE_UNSAVEABLE (see the module documentation);
    /// CKR_OPERATION_NOT_INITIALIZED when no operation is active;
    /// CKR_BUFFER_TOO_SMALL.
    pub(in crate::backend::soft) fn crypto_operation_state(&self, out: &mut Output) -> Result<()> {
        let (mechanism, state) = self.operations().saved()?;
        out.put(&encode(mechanism, &state)?)?;
        Ok(())
    }

    /// C_SetOperationState (PKCS#11 3.0 §5.6): the digest saved in `blob`
    /// becomes this session's digest, replacing any active one; the
    /// session's other operations are left as they are (the state holds
    /// none). The blob is checked first, then the keys: a saved digest
    /// needs no key, so `enc_key` and `auth_key` must be
    /// CK_INVALID_HANDLE. A failed call changes nothing.
    ///
    /// # Errors
    /// CKR_SAVED_STATE_INVALID (see the module documentation);
    /// CKR_KEY_NOT_NEEDED for a key handle other than CK_INVALID_HANDLE.
    pub(in crate::backend::soft) fn crypto_set_operation_state(
        &self,
        blob: &[u8],
        enc_key: CK_OBJECT_HANDLE,
        auth_key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        let (mechanism, state) = decode(blob)?;
        let digest = self
            .mechanism_entry(mechanism)
            .ok()
            .and_then(|entry| entry.ops.digest)
            .ok_or(Rv::SAVED_STATE_INVALID)?;
        let op = digest.restore(state)?;
        if enc_key != CK_INVALID_HANDLE || auth_key != CK_INVALID_HANDLE {
            return Err(Rv::KEY_NOT_NEEDED);
        }
        self.operations().restored(op);
        Ok(())
    }
}

impl Operations {
    /// The digest's mechanism and state, if every active operation can be
    /// saved.
    fn saved(&self) -> Result<(CK_MECHANISM_TYPE, Vec<u8>)> {
        let unsaveable = self.sign.is_some()
            || self.verify.is_some()
            || self.sign_recover.is_some()
            || self.verify_recover.is_some()
            || self.encrypt.is_some()
            || self.decrypt.is_some();
        if unsaveable {
            return Err(Rv::STATE_UNSAVEABLE);
        }
        let digest = self.digest.as_ref().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        digest.op.save()
    }

    /// A restored digest takes the digest's place. It used no key, so it
    /// is not private and waits for no login.
    fn restored(&mut self, op: Box<dyn DigestOp>) {
        self.digest = Some(Active {
            private: false,
            awaiting_login: false,
            op,
        });
    }
}

/// The saved state of a digest of `mechanism` whose own state is `state`.
///
/// # Errors
/// CKR_STATE_UNSAVEABLE for a mechanism code beyond 32 bits (no digest has
/// one).
fn encode(mechanism: CK_MECHANISM_TYPE, state: &[u8]) -> Result<Vec<u8>> {
    let mechanism = u32::try_from(mechanism).map_err(|_| Rv::STATE_UNSAVEABLE)?;
    let mut out = Vec::with_capacity(HEADER_LEN + state.len() + CHECK_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[VERSION, KIND_DIGEST]);
    out.extend_from_slice(&mechanism.to_be_bytes());
    out.extend_from_slice(state);
    let check = check(&out);
    out.extend_from_slice(&check);
    Ok(out)
}

/// The mechanism and its state in a saved state, once the layout and the
/// check hold.
///
/// # Errors
/// CKR_SAVED_STATE_INVALID.
fn decode(blob: &[u8]) -> Result<(CK_MECHANISM_TYPE, &[u8])> {
    let invalid = Rv::SAVED_STATE_INVALID;
    let (body, tail) = blob.split_last_chunk::<CHECK_LEN>().ok_or(invalid)?;
    let (header, state) = body.split_first_chunk::<HEADER_LEN>().ok_or(invalid)?;
    let (magic, rest) = header.split_first_chunk::<4>().ok_or(invalid)?;
    let ([version, kind], mechanism) = rest.split_first_chunk::<2>().ok_or(invalid)?;
    let mechanism: [u8; 4] = mechanism.try_into().map_err(|_| invalid)?;
    if magic != MAGIC || *version != VERSION || *kind != KIND_DIGEST || check(body) != *tail {
        return Err(invalid);
    }
    Ok((
        CK_MECHANISM_TYPE::from(u32::from_be_bytes(mechanism)),
        state,
    ))
}

/// The check over `body`.
fn check(body: &[u8]) -> [u8; CHECK_LEN] {
    let digest = Hash::Sha256.digest(body);
    let mut out = [0u8; CHECK_LEN];
    out.copy_from_slice(&digest.as_ref()[..CHECK_LEN]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::MechParam;
    use crate::mechanisms::digest::{SHA256, SHA384, SHA3_256};
    use crate::mechanisms::SignOp;

    /// A digest of `mech` fed `data`, as the session holds it.
    fn digesting(mech: &dyn crate::mechanisms::Digest, data: &[u8]) -> Operations {
        let mut op = mech.start(&MechParam::None).expect("starts");
        op.update(data).expect("update");
        let mut ops = Operations::default();
        ops.restored(op);
        ops
    }

    fn blob(ops: &Operations) -> Vec<u8> {
        let (mechanism, state) = ops.saved().expect("saves");
        encode(mechanism, &state).expect("encodes")
    }

    fn restore(blob: &[u8]) -> Result<Box<dyn DigestOp>> {
        let (mechanism, state) = decode(blob)?;
        let digest = crate::mechanisms::entry(mechanism)
            .ok()
            .and_then(|e| e.ops.digest)
            .ok_or(Rv::SAVED_STATE_INVALID)?;
        digest.restore(state)
    }

    fn finish(mut op: Box<dyn DigestOp>, rest: &[u8]) -> Vec<u8> {
        op.update(rest).expect("update");
        let mut out = [0u8; 64];
        let n = op.finish(&mut out).expect("finish");
        out[..n].to_vec()
    }

    #[test]
    fn round_trip() {
        for (mech, hash) in [(&SHA256, Hash::Sha256), (&SHA384, Hash::Sha384)] {
            let ops = digesting(mech, b"hello, ");
            let saved = blob(&ops);
            assert_eq!(&saved[..4], MAGIC);
            let restored = restore(&saved).expect("restores");
            assert_eq!(
                finish(restored, b"world"),
                hash.digest(b"hello, world").as_ref()
            );
        }
    }

    #[test]
    fn every_truncation_and_extension_is_refused() {
        let saved = blob(&digesting(&SHA256, &[7u8; 100]));
        for len in 0..saved.len() {
            assert!(
                matches!(restore(&saved[..len]), Err(Rv::SAVED_STATE_INVALID)),
                "{len} of {} bytes",
                saved.len()
            );
        }
        let mut longer = saved.clone();
        longer.push(0);
        assert!(matches!(restore(&longer), Err(Rv::SAVED_STATE_INVALID)));
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let saved = blob(&digesting(&SHA256, b"abc"));
        for at in 0..saved.len() {
            let mut bad = saved.clone();
            bad[at] ^= 0x01;
            assert!(
                matches!(restore(&bad), Err(Rv::SAVED_STATE_INVALID)),
                "byte {at}"
            );
        }
    }

    /// A field changed and the check recomputed over it: the field checks
    /// alone must refuse it.
    #[test]
    fn corrupted_fields_with_a_good_check_are_refused() {
        let saved = blob(&digesting(&SHA256, b"abc"));
        let body = &saved[..saved.len() - CHECK_LEN];
        let resealed = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut b = body.to_vec();
            edit(&mut b);
            let check = check(&b);
            b.extend_from_slice(&check);
            b
        };
        let num_at = HEADER_LEN + 8 * 4 + 2 * 4;
        type Edit<'a> = &'a dyn Fn(&mut Vec<u8>);
        let cases: [(&str, Edit); 8] = [
            ("magic", &|b| b[0] = b'X'),
            ("version", &|b| b[4] = 2),
            ("kind", &|b| b[5] = 2),
            ("unknown mechanism", &|b| b[9] = 0xff),
            ("SHA-3, unsaveable", &|b| {
                b[6..10].copy_from_slice(&(CKM_SHA3_256 as u32).to_be_bytes())
            }),
            ("SHA-512's layout is longer", &|b| {
                b[6..10].copy_from_slice(&(CKM_SHA512 as u32).to_be_bytes())
            }),
            ("num past the block", &|b| b[num_at] = 64),
            ("num against the bit count", &|b| b[num_at] = 2),
        ];
        for (what, edit) in cases {
            assert!(
                matches!(restore(&resealed(edit)), Err(Rv::SAVED_STATE_INVALID)),
                "{what}"
            );
        }
        // SHA-224 has SHA-256's layout: its mechanism is accepted, and
        // gives a SHA-224 digest.
        let as_224 = resealed(&|b| b[6..10].copy_from_slice(&(CKM_SHA224 as u32).to_be_bytes()));
        assert_eq!(restore(&as_224).expect("restores").output_len(), 28);
    }

    #[test]
    fn unsaveable_and_absent_operations() {
        assert!(matches!(
            Operations::default().saved(),
            Err(Rv::OPERATION_NOT_INITIALIZED)
        ));
        assert!(matches!(
            digesting(&SHA3_256, b"x").saved(),
            Err(Rv::STATE_UNSAVEABLE)
        ));

        /// A signature whose state cannot be saved.
        struct Signing;
        impl SignOp for Signing {
            fn signature_len(&self) -> usize {
                1
            }
            fn update(&mut self, _: &[u8]) -> Result<()> {
                Ok(())
            }
            fn finish(self: Box<Self>, _: &mut [u8]) -> Result<usize> {
                Ok(0)
            }
        }
        let active = || {
            Some(Active {
                private: true,
                awaiting_login: false,
                op: Box::new(Signing) as Box<dyn SignOp>,
            })
        };
        let alone = Operations {
            sign: active(),
            ..Operations::default()
        };
        assert!(matches!(alone.saved(), Err(Rv::STATE_UNSAVEABLE)));
        let mut beside = digesting(&SHA256, b"x");
        beside.sign_recover = active();
        assert!(matches!(beside.saved(), Err(Rv::STATE_UNSAVEABLE)));

        let mut keyed = digesting(&SHA256, b"x");
        if let Some(d) = keyed.digest.as_mut() {
            d.op.update_secret(b"key").expect("key");
        }
        assert!(matches!(keyed.saved(), Err(Rv::STATE_UNSAVEABLE)));
    }
}
