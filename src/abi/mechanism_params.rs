//! Mechanism parameters that hold pointers, decoded once at the boundary
//! into [`MechParam`] so no raw C structure reaches mechanism code.
//! Parameters without pointers stay `MechParam::Bytes`.

use std::mem::size_of;

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::abi::convert;
use crate::backend::{HkdfSalt, MechParam, ParamSecret};
use crate::error::{Result, Rv};

/// Below this, CK_PKCS5_PBKD2_PARAMS2's last field is a password length;
/// from it on, 2.40's pointer to one (see `decode`).
const PASSWORD_LEN_LIMIT: CK_ULONG = 0x1_0000;

/// Decode the parameter of mechanism `kind` at `p`, `len` bytes long
/// (`p` is not NULL).
///
/// # Errors
/// CKR_MECHANISM_PARAM_INVALID when a structured parameter has the wrong
/// length or a NULL pointer with a non-zero length inside.
///
/// # Safety
/// `p` must be valid for reads of `len` bytes, and the pointers inside a
/// structured parameter valid for their lengths (the PKCS#11 contract).
pub unsafe fn decode(kind: CK_MECHANISM_TYPE, p: *const u8, len: CK_ULONG) -> Result<MechParam> {
    match kind {
        CKM_EDDSA => {
            // SAFETY: forwarded contract; the length is checked first.
            let s = unsafe { read::<CK_EDDSA_PARAMS>(p, len) }?;
            // SAFETY: the context is valid for its length by the contract.
            let context = unsafe { inner(s.pContextData, s.ulContextDataLen) }?;
            Ok(MechParam::Eddsa {
                prehash: s.phFlag != 0,
                context,
            })
        }
        CKM_ECDH1_DERIVE | CKM_ECDH1_COFACTOR_DERIVE => {
            // SAFETY: forwarded contract; the length is checked first.
            let s = unsafe { read::<CK_ECDH1_DERIVE_PARAMS>(p, len) }?;
            // SAFETY: both buffers are valid for their lengths by the contract.
            let shared_data = unsafe { inner(s.pSharedData, s.ulSharedDataLen) }?;
            // SAFETY: as above.
            let public_data = unsafe { inner(s.pPublicData, s.ulPublicDataLen) }?;
            Ok(MechParam::Ecdh {
                kdf: s.kdf,
                shared_data,
                public_data,
            })
        }
        // PKCS#11 2.40's layout, without ulIvBits, still sent by clients
        // built against older headers (SoftHSMv2's among them).
        CKM_AES_GCM if len as usize == size_of::<Gcm240>() => {
            // SAFETY: forwarded contract; the length was checked.
            let s = unsafe { read::<Gcm240>(p, len) }?;
            // SAFETY: IV and AAD are valid for their lengths by the contract.
            let iv = unsafe { inner(s.pIv, s.ulIvLen) }?;
            // SAFETY: as above.
            let aad = unsafe { inner(s.pAAD, s.ulAADLen) }?;
            Ok(MechParam::Gcm {
                iv,
                aad,
                tag_bits: s.ulTagBits,
            })
        }
        // 3.0's layout. ulIvBits is not read: 3.0 §2.13.5 says to give the
        // IV's length in ulIvLen and not in ulIvBits, and clients fill it
        // in differently (0, or ulIvLen * 8), so the IV is ulIvLen bytes
        // whatever ulIvBits says.
        CKM_AES_GCM => {
            // SAFETY: forwarded contract; the length is checked first.
            let s = unsafe { read::<CK_GCM_PARAMS>(p, len) }?;
            // SAFETY: IV and AAD are valid for their lengths by the contract.
            let iv = unsafe { inner(s.pIv, s.ulIvLen) }?;
            // SAFETY: as above.
            let aad = unsafe { inner(s.pAAD, s.ulAADLen) }?;
            Ok(MechParam::Gcm {
                iv,
                aad,
                tag_bits: s.ulTagBits,
            })
        }
        CKM_RSA_PKCS_PSS
        | CKM_SHA1_RSA_PKCS_PSS
        | CKM_SHA224_RSA_PKCS_PSS
        | CKM_SHA256_RSA_PKCS_PSS
        | CKM_SHA384_RSA_PKCS_PSS
        | CKM_SHA512_RSA_PKCS_PSS => {
            // SAFETY: forwarded contract; the length is checked first.
            let s = unsafe { read::<CK_RSA_PKCS_PSS_PARAMS>(p, len) }?;
            Ok(MechParam::RsaPss {
                hash: s.hashAlg,
                mgf: s.mgf,
                salt_len: s.sLen,
            })
        }
        CKM_RSA_PKCS_OAEP => {
            // SAFETY: forwarded contract; the length is checked first.
            let s = unsafe { read::<CK_RSA_PKCS_OAEP_PARAMS>(p, len) }?;
            // SAFETY: the label is valid for its length by the contract.
            let label = unsafe { inner(s.pSourceData as *const u8, s.ulSourceDataLen) }?;
            Ok(MechParam::RsaOaep {
                hash: s.hashAlg,
                mgf: s.mgf,
                source: s.source,
                label,
            })
        }
        CKM_HKDF_DERIVE | CKM_HKDF_DATA => {
            // SAFETY: forwarded contract; the length is checked first.
            let s = unsafe { read::<CK_HKDF_PARAMS>(p, len) }?;
            let salt = match s.ulSaltType {
                CKF_HKDF_SALT_NULL => HkdfSalt::Null,
                // SAFETY: the salt is valid for its length by the contract.
                CKF_HKDF_SALT_DATA => HkdfSalt::Data(unsafe { inner(s.pSalt, s.ulSaltLen) }?),
                CKF_HKDF_SALT_KEY => HkdfSalt::Key(s.hSaltKey),
                _ => return Err(Rv::MECHANISM_PARAM_INVALID),
            };
            Ok(MechParam::Hkdf {
                extract: s.bExtract != 0,
                expand: s.bExpand != 0,
                prf: s.prfHashMechanism,
                salt,
                // SAFETY: the info is valid for its length by the contract.
                info: unsafe { inner(s.pInfo, s.ulInfoLen) }?,
            })
        }
        CKM_PKCS5_PBKD2 => {
            // Both layouts have the same size: PARAMS2 ends in the password's
            // length, 2.40's PARAMS in a pointer to it. No valid pointer lies
            // in the first 64 KiB (Linux's vm.mmap_min_addr), and no password
            // is that long, so a smaller value is a length.
            // SAFETY: forwarded contract; the length is checked first.
            let s = unsafe { read::<CK_PKCS5_PBKD2_PARAMS2>(p, len) }?;
            let password_len = if s.ulPasswordLen < PASSWORD_LEN_LIMIT {
                s.ulPasswordLen
            } else {
                let at = s.ulPasswordLen as usize as *const CK_ULONG;
                // SAFETY: a value this large is 2.40's CK_ULONG_PTR, valid
                // for reads by the contract; it need not be aligned.
                unsafe { std::ptr::read_unaligned(at) }
            };
            // SAFETY: each buffer is valid for its length by the contract.
            let (salt, prf_data, password) = unsafe {
                (
                    inner(s.pSaltSourceData as *const u8, s.ulSaltSourceDataLen)?,
                    inner(s.pPrfData as *const u8, s.ulPrfDataLen)?,
                    inner(s.pPassword, password_len)?,
                )
            };
            Ok(MechParam::Pbkdf2 {
                salt_source: s.saltSource,
                salt,
                iterations: s.iterations,
                prf: s.prf,
                prf_data,
                password: ParamSecret(Zeroizing::new(password)),
            })
        }
        CKM_AES_ECB_ENCRYPT_DATA => {
            // SAFETY: forwarded contract; the length is checked first.
            let s = unsafe { read::<CK_KEY_DERIVATION_STRING_DATA>(p, len) }?;
            // SAFETY: the data is valid for its length by the contract.
            Ok(MechParam::Bytes(unsafe { inner(s.pData, s.ulLen) }?))
        }
        CKM_AES_CBC_ENCRYPT_DATA => {
            // SAFETY: forwarded contract; the length is checked first.
            let s = unsafe { read::<CK_AES_CBC_ENCRYPT_DATA_PARAMS>(p, len) }?;
            Ok(MechParam::AesCbcEncryptData {
                iv: s.iv,
                // SAFETY: the data is valid for its length by the contract.
                data: unsafe { inner(s.pData, s.length) }?,
            })
        }
        _ => {
            // SAFETY: forwarded contract.
            let bytes = unsafe { convert::bytes(p, len) }?;
            Ok(MechParam::Bytes(bytes.to_vec()))
        }
    }
}

/// CK_GCM_PARAMS as PKCS#11 2.40 defined it.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_snake_case)]
struct Gcm240 {
    pIv: *mut CK_BYTE,
    ulIvLen: CK_ULONG,
    pAAD: *mut CK_BYTE,
    ulAADLen: CK_ULONG,
    ulTagBits: CK_ULONG,
}

/// Copy a parameter structure out of client memory.
///
/// # Safety
/// `p` must be valid for reads of `len` bytes.
unsafe fn read<T: Copy>(p: *const u8, len: CK_ULONG) -> Result<T> {
    if len as usize != size_of::<T>() {
        return Err(Rv::MECHANISM_PARAM_INVALID);
    }
    // SAFETY: `p` is valid for size_of::<T>() bytes; the client's buffer
    // need not be aligned, hence read_unaligned.
    Ok(unsafe { std::ptr::read_unaligned(p as *const T) })
}

/// Copy a buffer a parameter structure points at.
///
/// # Safety
/// `p` must be NULL or valid for reads of `len` bytes.
unsafe fn inner(p: *const u8, len: CK_ULONG) -> Result<Vec<u8>> {
    // SAFETY: forwarded contract.
    unsafe { convert::bytes(p, len) }
        .map(<[u8]>::to_vec)
        .map_err(|_| Rv::MECHANISM_PARAM_INVALID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eddsa_params() {
        let mut ctx = *b"context";
        let s = CK_EDDSA_PARAMS {
            phFlag: 1,
            ulContextDataLen: ctx.len() as CK_ULONG,
            pContextData: ctx.as_mut_ptr(),
        };
        let p = &s as *const CK_EDDSA_PARAMS as *const u8;
        let len = size_of::<CK_EDDSA_PARAMS>() as CK_ULONG;
        // SAFETY: `s` and `ctx` live through the call.
        let m = unsafe { decode(CKM_EDDSA, p, len) }.expect("decodes");
        assert!(
            matches!(m, MechParam::Eddsa { prehash: true, ref context } if context == b"context")
        );
        // SAFETY: as above; the short length is refused before any read.
        let short = unsafe { decode(CKM_EDDSA, p, len - 1) };
        assert!(matches!(short, Err(Rv::MECHANISM_PARAM_INVALID)));
    }

    #[test]
    fn rsa_params() {
        let s = CK_RSA_PKCS_PSS_PARAMS {
            hashAlg: CKM_SHA256,
            mgf: CKG_MGF1_SHA256,
            sLen: 32,
        };
        let p = &s as *const CK_RSA_PKCS_PSS_PARAMS as *const u8;
        let len = size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG;
        // SAFETY: `s` lives through the call.
        let m = unsafe { decode(CKM_SHA256_RSA_PKCS_PSS, p, len) }.expect("decodes");
        assert!(matches!(
            m,
            MechParam::RsaPss {
                hash: CKM_SHA256,
                mgf: CKG_MGF1_SHA256,
                salt_len: 32
            }
        ));
        let mut label = *b"label";
        let o = CK_RSA_PKCS_OAEP_PARAMS {
            hashAlg: CKM_SHA_1,
            mgf: CKG_MGF1_SHA1,
            source: CKZ_DATA_SPECIFIED,
            pSourceData: label.as_mut_ptr().cast(),
            ulSourceDataLen: label.len() as CK_ULONG,
        };
        let p = &o as *const CK_RSA_PKCS_OAEP_PARAMS as *const u8;
        let len = size_of::<CK_RSA_PKCS_OAEP_PARAMS>() as CK_ULONG;
        // SAFETY: `o` and `label` live through the call.
        let m = unsafe { decode(CKM_RSA_PKCS_OAEP, p, len) }.expect("decodes");
        assert!(
            matches!(m, MechParam::RsaOaep { hash: CKM_SHA_1, source: CKZ_DATA_SPECIFIED, ref label, .. } if label == b"label")
        );
        // SAFETY: as above; the short length is refused before any read.
        let short = unsafe { decode(CKM_RSA_PKCS_OAEP, p, len - 1) };
        assert!(matches!(short, Err(Rv::MECHANISM_PARAM_INVALID)));
    }

    #[test]
    fn null_inside_with_length_is_invalid() {
        let s = CK_GCM_PARAMS {
            pIv: std::ptr::null_mut(),
            ulIvLen: 12,
            ulIvBits: 96,
            pAAD: std::ptr::null_mut(),
            ulAADLen: 0,
            ulTagBits: 128,
        };
        let p = &s as *const CK_GCM_PARAMS as *const u8;
        // SAFETY: `s` lives through the call; the NULL IV is refused.
        let r = unsafe { decode(CKM_AES_GCM, p, size_of::<CK_GCM_PARAMS>() as CK_ULONG) };
        assert!(matches!(r, Err(Rv::MECHANISM_PARAM_INVALID)));
    }

    #[test]
    fn gcm_iv_length_is_ul_iv_len() {
        let mut iv = [7u8; 16];
        let mut aad = *b"aad";
        for iv_bits in [0, 96, 128, 12345] {
            let s = CK_GCM_PARAMS {
                pIv: iv.as_mut_ptr(),
                ulIvLen: 16,
                ulIvBits: iv_bits,
                pAAD: aad.as_mut_ptr(),
                ulAADLen: 3,
                ulTagBits: 96,
            };
            let p = &s as *const CK_GCM_PARAMS as *const u8;
            // SAFETY: `s`, `iv` and `aad` live through the call.
            let m = unsafe { decode(CKM_AES_GCM, p, size_of::<CK_GCM_PARAMS>() as CK_ULONG) };
            assert!(
                matches!(m, Ok(MechParam::Gcm { ref iv, ref aad, tag_bits: 96 }) if iv.len() == 16 && aad == b"aad"),
                "ulIvBits {iv_bits}"
            );
        }
    }

    #[test]
    fn pbkd2_both_layouts() {
        let mut salt = *b"salt";
        let mut password = *b"password";
        let mut len: CK_ULONG = password.len() as CK_ULONG;
        let mut s = CK_PKCS5_PBKD2_PARAMS2 {
            saltSource: CKZ_SALT_SPECIFIED,
            pSaltSourceData: salt.as_mut_ptr().cast(),
            ulSaltSourceDataLen: 4,
            iterations: 2,
            prf: CKP_PKCS5_PBKD2_HMAC_SHA1,
            pPrfData: std::ptr::null_mut(),
            ulPrfDataLen: 0,
            pPassword: password.as_mut_ptr(),
            ulPasswordLen: len,
        };
        let size = size_of::<CK_PKCS5_PBKD2_PARAMS2>() as CK_ULONG;
        assert_eq!(size as usize, size_of::<CK_PKCS5_PBKD2_PARAMS>());
        for old in [false, true] {
            if old {
                s.ulPasswordLen = &mut len as *mut CK_ULONG as usize as CK_ULONG;
            }
            let p = &s as *const CK_PKCS5_PBKD2_PARAMS2 as *const u8;
            // SAFETY: `s`, `salt`, `password` and `len` live through the call.
            let m = unsafe { decode(CKM_PKCS5_PBKD2, p, size) }.expect("decodes");
            let MechParam::Pbkdf2 {
                salt,
                password,
                iterations,
                ..
            } = m
            else {
                panic!("not PBKD2 parameters");
            };
            assert_eq!(
                (salt.as_slice(), password.0.as_slice(), iterations),
                (&b"salt"[..], &b"password"[..], 2)
            );
        }
    }

    #[test]
    fn hkdf_params() {
        let mut info = *b"info";
        let s = CK_HKDF_PARAMS {
            bExtract: 1,
            bExpand: 0,
            prfHashMechanism: CKM_SHA256,
            ulSaltType: CKF_HKDF_SALT_KEY,
            pSalt: std::ptr::null_mut(),
            ulSaltLen: 0,
            hSaltKey: 7,
            pInfo: info.as_mut_ptr(),
            ulInfoLen: 4,
        };
        let p = &s as *const CK_HKDF_PARAMS as *const u8;
        let size = size_of::<CK_HKDF_PARAMS>() as CK_ULONG;
        // SAFETY: `s` and `info` live through the call.
        let m = unsafe { decode(CKM_HKDF_DERIVE, p, size) }.expect("decodes");
        assert!(matches!(
            m,
            MechParam::Hkdf { extract: true, expand: false, salt: HkdfSalt::Key(7), ref info, .. } if info == b"info"
        ));
        let bad = CK_HKDF_PARAMS { ulSaltType: 8, ..s };
        let p = &bad as *const CK_HKDF_PARAMS as *const u8;
        // SAFETY: as above.
        let r = unsafe { decode(CKM_HKDF_DATA, p, size) };
        assert!(matches!(r, Err(Rv::MECHANISM_PARAM_INVALID)));
    }
}
