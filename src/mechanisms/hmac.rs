//! HMAC (PKCS#11 3.0 Current Mechanisms §2.20–2.25): CKM_SHA_1_HMAC,
//! CKM_SHA224_HMAC ... CKM_SHA512_HMAC through aws-lc-rs, and the secret
//! key generators CKM_GENERIC_SECRET_KEY_GEN and CKM_AES_KEY_GEN (shared
//! code: a random CKA_VALUE of CKA_VALUE_LEN bytes).
//!
//! Keys: CKK_GENERIC_SECRET or the mechanism's own CKK_SHA*_HMAC type.
//! Their length must be at least the digest's and at most 512 bytes, as
//! SoftHSMv2 requires (CKR_KEY_SIZE_RANGE otherwise); the table reports the
//! same range, in bytes, as SoftHSMv2 does. The MAC is the full digest
//! length (the _GENERAL variants are not offered); verification compares in
//! constant time.

use aws_lc_rs::hmac;
use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::backend::{MechParam, Template};
use crate::error::{Result, Rv};
use crate::mechanisms::{key_value, no_param, template_value, KeyGen, Sign, SignOp};
use crate::mechanisms::{Verify, VerifyOp};
use crate::object::policy::{self, Actor, KeyOrigin};
use crate::object::Attributes;

/// The longest HMAC key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 512;

/// One HMAC mechanism.
pub struct Hmac {
    algorithm: hmac::Algorithm,
    key_types: &'static [CK_KEY_TYPE],
}

pub static SHA1_HMAC: Hmac = Hmac {
    algorithm: hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
    key_types: &[CKK_GENERIC_SECRET, CKK_SHA_1_HMAC],
};
pub static SHA224_HMAC: Hmac = Hmac {
    algorithm: hmac::HMAC_SHA224,
    key_types: &[CKK_GENERIC_SECRET, CKK_SHA224_HMAC],
};
pub static SHA256_HMAC: Hmac = Hmac {
    algorithm: hmac::HMAC_SHA256,
    key_types: &[CKK_GENERIC_SECRET, CKK_SHA256_HMAC],
};
pub static SHA384_HMAC: Hmac = Hmac {
    algorithm: hmac::HMAC_SHA384,
    key_types: &[CKK_GENERIC_SECRET, CKK_SHA384_HMAC],
};
pub static SHA512_HMAC: Hmac = Hmac {
    algorithm: hmac::HMAC_SHA512,
    key_types: &[CKK_GENERIC_SECRET, CKK_SHA512_HMAC],
};

impl Hmac {
    /// The MAC's length in bytes.
    fn tag_len(&self) -> usize {
        self.algorithm.digest_algorithm().output_len()
    }

    /// A running HMAC under `key`. aws-lc wipes the key schedule when the
    /// context is freed (HMAC_CTX_cleanup cleanses).
    fn context(&self, param: &MechParam, key: &Attributes) -> Result<hmac::Context> {
        no_param(param)?;
        let value = key_value(key, CKA_VALUE)?;
        if value.len() < self.tag_len() || value.len() > MAX_KEY_LEN {
            return Err(Rv::KEY_SIZE_RANGE);
        }
        let key = hmac::Key::new(self.algorithm, value.as_slice());
        Ok(hmac::Context::with_key(&key))
    }
}

impl Sign for Hmac {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        self.key_types
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn SignOp>> {
        Ok(Box::new(HmacOp {
            context: self.context(param, key)?,
            len: self.tag_len(),
        }))
    }
}

impl Verify for Hmac {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        self.key_types
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn VerifyOp>> {
        Ok(Box::new(HmacOp {
            context: self.context(param, key)?,
            len: self.tag_len(),
        }))
    }
}

struct HmacOp {
    context: hmac::Context,
    len: usize,
}

impl SignOp for HmacOp {
    fn signature_len(&self) -> usize {
        self.len
    }

    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.context.update(data);
        Ok(())
    }

    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize> {
        let tag = self.context.sign();
        out.get_mut(..self.len)
            .ok_or(Rv::GENERAL_ERROR)?
            .copy_from_slice(tag.as_ref());
        Ok(self.len)
    }
}

impl VerifyOp for HmacOp {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.context.update(data);
        Ok(())
    }

    fn finish(self: Box<Self>, signature: &[u8]) -> Result<()> {
        if signature.len() != self.len {
            return Err(Rv::SIGNATURE_LEN_RANGE);
        }
        let tag = self.context.sign();
        aws_lc_rs::constant_time::verify_slices_are_equal(tag.as_ref(), signature)
            .map_err(|_| Rv::SIGNATURE_INVALID)
    }
}

// ---------------------------------------------------------------------------
// Secret key generation.

/// A generator of random secret keys of CKA_VALUE_LEN bytes.
pub struct SecretKeyGen {
    key_type: CK_KEY_TYPE,
    /// The lengths allowed, in bytes.
    lengths: &'static [std::ops::RangeInclusive<usize>],
}

/// CKM_GENERIC_SECRET_KEY_GEN: 1 to 512 bytes (the table says 8 to 4096
/// bits: this mechanism's sizes are in bits).
pub static GENERIC_SECRET_KEY_GEN: SecretKeyGen = SecretKeyGen {
    key_type: CKK_GENERIC_SECRET,
    lengths: &[1..=MAX_KEY_LEN],
};

/// CKM_HKDF_KEY_GEN: a random CKK_HKDF key of 1 to 512 bytes.
pub static HKDF_KEY_GEN: SecretKeyGen = SecretKeyGen {
    key_type: CKK_HKDF,
    lengths: &[1..=MAX_KEY_LEN],
};

/// CKM_AES_KEY_GEN: 16, 24 or 32 bytes.
pub static AES_KEY_GEN: SecretKeyGen = SecretKeyGen {
    key_type: CKK_AES,
    lengths: &[16..=16, 24..=24, 32..=32],
};

impl KeyGen for SecretKeyGen {
    /// CKA_VALUE_LEN must be in the template (CKR_TEMPLATE_INCOMPLETE) and
    /// one of the mechanism's lengths (CKR_KEY_SIZE_RANGE). The key gets
    /// CKA_VALUE and CKA_VALUE_LEN.
    fn generate(&self, param: &MechParam, template: &Template, actor: Actor) -> Result<Attributes> {
        no_param(param)?;
        let raw = template_value(template, CKA_VALUE_LEN).ok_or(Rv::TEMPLATE_INCOMPLETE)?;
        let len = CK_ULONG::from_ne_bytes(raw.try_into().map_err(|_| Rv::ATTRIBUTE_VALUE_INVALID)?);
        let len = usize::try_from(len).map_err(|_| Rv::KEY_SIZE_RANGE)?;
        if !self.lengths.iter().any(|r| r.contains(&len)) {
            return Err(Rv::KEY_SIZE_RANGE);
        }
        let mut attrs = policy::for_new_key(
            CKO_SECRET_KEY,
            self.key_type,
            template,
            KeyOrigin::Generated,
            actor,
        )?;
        let mut value = Zeroizing::new(vec![0u8; len]);
        aws_lc_rs::rand::fill(&mut value).map_err(|_| Rv::FUNCTION_FAILED)?;
        attrs.set_secret(CKA_VALUE, &value);
        attrs.set_ulong(CKA_VALUE_LEN, len as CK_ULONG);
        Ok(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::test_util::hex;

    fn secret(value: &[u8]) -> Attributes {
        let mut a = Attributes::new();
        a.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
        a.set_ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
        a.set_secret(CKA_VALUE, value);
        a
    }

    fn mac(m: &Hmac, key: &Attributes, parts: &[&[u8]]) -> Result<Vec<u8>> {
        let mut op = Sign::start(m, &MechParam::None, key)?;
        for p in parts {
            op.update(p)?;
        }
        let mut out = vec![0u8; op.signature_len()];
        op.finish(&mut out)?;
        Ok(out)
    }

    /// RFC 4231 test case 2 ("Jefe") is below SoftHSMv2's minimum key
    /// length, so test case 6 (a 131-byte key) is the known answer.
    #[test]
    fn rfc4231_case6() {
        let key = secret(&[0xaa; 131]);
        let data: &[u8] = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let want256 = hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        assert_eq!(
            mac(&SHA256_HMAC, &key, &[&data[..10], &data[10..]]).expect("macs"),
            want256
        );
        let mut op = Verify::start(&SHA256_HMAC, &MechParam::None, &key).expect("init");
        op.update(data).expect("update");
        op.finish(&want256).expect("verifies");
        let mut op = Verify::start(&SHA256_HMAC, &MechParam::None, &key).expect("init");
        op.update(b"other").expect("update");
        assert_eq!(op.finish(&want256), Err(Rv::SIGNATURE_INVALID));
        let op = Verify::start(&SHA256_HMAC, &MechParam::None, &key).expect("init");
        assert_eq!(op.finish(&want256[..31]), Err(Rv::SIGNATURE_LEN_RANGE));
        let want512 = hex(
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
             6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
        );
        assert_eq!(mac(&SHA512_HMAC, &key, &[data]).expect("macs"), want512);
    }

    /// The checks the secret-key generators make before the policy.
    #[test]
    fn key_gen_template_checks() {
        use crate::backend::Attr;
        let gen = |g: &SecretKeyGen, t: &[Attr]| {
            g.generate(&MechParam::None, t, Actor::default()).map(drop)
        };
        assert_eq!(gen(&AES_KEY_GEN, &[]), Err(Rv::TEMPLATE_INCOMPLETE));
        let len = |n: CK_ULONG| [Attr::ulong(CKA_VALUE_LEN, n)];
        assert_eq!(gen(&AES_KEY_GEN, &len(20)), Err(Rv::KEY_SIZE_RANGE));
        assert_eq!(
            gen(&GENERIC_SECRET_KEY_GEN, &len(0)),
            Err(Rv::KEY_SIZE_RANGE)
        );
        assert_eq!(
            gen(&GENERIC_SECRET_KEY_GEN, &len(513)),
            Err(Rv::KEY_SIZE_RANGE)
        );
        assert_eq!(
            gen(&AES_KEY_GEN, &[Attr::new(CKA_VALUE_LEN, &[32])]),
            Err(Rv::ATTRIBUTE_VALUE_INVALID)
        );
    }

    #[test]
    fn key_length_bounds() {
        assert!(matches!(
            Sign::start(&SHA256_HMAC, &MechParam::None, &secret(&[1; 31])),
            Err(Rv::KEY_SIZE_RANGE)
        ));
        assert!(Sign::start(&SHA256_HMAC, &MechParam::None, &secret(&[1; 32])).is_ok());
        assert!(matches!(
            Sign::start(&SHA1_HMAC, &MechParam::None, &secret(&[1; 513])),
            Err(Rv::KEY_SIZE_RANGE)
        ));
    }
}
