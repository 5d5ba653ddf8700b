//! AES-CMAC (PKCS#11 3.0 Current Mechanisms §2.12; NIST SP 800-38B)
//! through aws-lc-rs: CKM_AES_CMAC (a 16-byte MAC, no parameter) and
//! CKM_AES_CMAC_GENERAL (CK_MAC_GENERAL_PARAMS: the MAC length, 1 to 16
//! bytes; the MAC is the leading bytes of the full one). Verification
//! compares in constant time.

use aws_lc_rs::cmac;
use cryptoki_sys::*;

use crate::backend::MechParam;
use crate::error::{Result, Rv};
use crate::mechanisms::{key_value, no_param, Sign, SignOp, Verify, VerifyOp};
use crate::object::Attributes;

const FULL: usize = 16;

/// CKM_AES_CMAC (`general` false) and CKM_AES_CMAC_GENERAL.
pub struct AesCmac {
    general: bool,
}

pub static AES_CMAC: AesCmac = AesCmac { general: false };
pub static AES_CMAC_GENERAL: AesCmac = AesCmac { general: true };

impl AesCmac {
    /// A running CMAC and the MAC length the parameter asks for.
    fn start(&self, param: &MechParam, key: &Attributes) -> Result<CmacOp> {
        let len = if self.general {
            mac_len(param)?
        } else {
            no_param(param)?;
            FULL
        };
        let value = key_value(key, CKA_VALUE)?;
        let alg = match value.len() {
            16 => cmac::AES_128,
            24 => cmac::AES_192,
            32 => cmac::AES_256,
            _ => return Err(Rv::KEY_SIZE_RANGE),
        };
        // aws-lc wipes the key schedule when the context is freed.
        let key = cmac::Key::new(alg, value.as_slice()).map_err(|_| Rv::KEY_SIZE_RANGE)?;
        Ok(CmacOp {
            context: cmac::Context::with_key(&key),
            len,
        })
    }
}

/// CK_MAC_GENERAL_PARAMS: a CK_ULONG in 1..=16.
fn mac_len(param: &MechParam) -> Result<usize> {
    let MechParam::Bytes(p) = param else {
        return Err(Rv::MECHANISM_PARAM_INVALID);
    };
    let n = CK_ULONG::from_ne_bytes(
        p.as_slice()
            .try_into()
            .map_err(|_| Rv::MECHANISM_PARAM_INVALID)?,
    );
    match usize::try_from(n) {
        Ok(n @ 1..=FULL) => Ok(n),
        _ => Err(Rv::MECHANISM_PARAM_INVALID),
    }
}

impl Sign for AesCmac {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        &[CKK_AES]
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn SignOp>> {
        Ok(Box::new(AesCmac::start(self, param, key)?))
    }
}

impl Verify for AesCmac {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        &[CKK_AES]
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn VerifyOp>> {
        Ok(Box::new(AesCmac::start(self, param, key)?))
    }
}

struct CmacOp {
    context: cmac::Context,
    len: usize,
}

impl CmacOp {
    fn tag(self) -> Result<cmac::Tag> {
        self.context.sign().map_err(|_| Rv::FUNCTION_FAILED)
    }
}

impl SignOp for CmacOp {
    fn signature_len(&self) -> usize {
        self.len
    }

    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.context.update(data).map_err(|_| Rv::FUNCTION_FAILED)
    }

    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize> {
        let len = self.len;
        let tag = self.tag()?;
        out.get_mut(..len)
            .ok_or(Rv::GENERAL_ERROR)?
            .copy_from_slice(&tag.as_ref()[..len]);
        Ok(len)
    }
}

impl VerifyOp for CmacOp {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.context.update(data).map_err(|_| Rv::FUNCTION_FAILED)
    }

    fn finish(self: Box<Self>, signature: &[u8]) -> Result<()> {
        if signature.len() != self.len {
            return Err(Rv::SIGNATURE_LEN_RANGE);
        }
        let len = self.len;
        let tag = self.tag()?;
        aws_lc_rs::constant_time::verify_slices_are_equal(&tag.as_ref()[..len], signature)
            .map_err(|_| Rv::SIGNATURE_INVALID)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::test_util::hex;

    fn aes_key(value: &[u8]) -> Attributes {
        let mut a = Attributes::new();
        a.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
        a.set_ulong(CKA_KEY_TYPE, CKK_AES);
        a.set_secret(CKA_VALUE, value);
        a
    }

    /// SP 800-38B D.1 (AES-128), example 2: one block.
    #[test]
    fn sp800_38b_example2() {
        let key = aes_key(&hex("2b7e151628aed2a6abf7158809cf4f3c"));
        let msg = hex("6bc1bee22e409f96e93d7e117393172a");
        let want = hex("070a16b46b4d4144f79bdd9dd04a287c");
        let mut op = Sign::start(&AES_CMAC, &MechParam::None, &key).expect("init");
        op.update(&msg[..3]).expect("update");
        op.update(&msg[3..]).expect("update");
        let mut out = [0u8; 16];
        assert_eq!(op.finish(&mut out), Ok(16));
        assert_eq!(out.to_vec(), want);

        let four = MechParam::Bytes((4 as CK_ULONG).to_ne_bytes().to_vec());
        let mut op = Verify::start(&AES_CMAC_GENERAL, &four, &key).expect("init");
        op.update(&msg).expect("update");
        assert_eq!(op.finish(&want[..4]), Ok(()));
        let mut op = Verify::start(&AES_CMAC_GENERAL, &four, &key).expect("init");
        op.update(&msg).expect("update");
        assert_eq!(op.finish(&want[..5]), Err(Rv::SIGNATURE_LEN_RANGE));
        let mut op = Verify::start(&AES_CMAC, &MechParam::None, &key).expect("init");
        op.update(b"other").expect("update");
        assert_eq!(op.finish(&want), Err(Rv::SIGNATURE_INVALID));
    }

    #[test]
    fn parameters() {
        let key = aes_key(&[1u8; 32]);
        for bad in [0 as CK_ULONG, 17] {
            let p = MechParam::Bytes(bad.to_ne_bytes().to_vec());
            assert!(matches!(
                Sign::start(&AES_CMAC_GENERAL, &p, &key),
                Err(Rv::MECHANISM_PARAM_INVALID)
            ));
        }
        assert!(matches!(
            Sign::start(&AES_CMAC, &MechParam::Bytes(vec![1]), &key),
            Err(Rv::MECHANISM_PARAM_INVALID)
        ));
    }
}
