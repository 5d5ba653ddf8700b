//! AES (PKCS#11 3.0 Current Mechanisms §2.9–2.13) through aws-lc-rs (GCM
//! at the IV and tag sizes it lacks through `awslc::gcm`): CKM_AES_ECB,
//! CKM_AES_CBC, CKM_AES_CBC_PAD, CKM_AES_CTR and CKM_AES_GCM, single- and
//! multi-part (CMAC is in `cmac.rs`). Key generation (CKM_AES_KEY_GEN) is in
//! `hmac.rs` with the other secret-key generators.
//!
//! - ECB and CBC take whole blocks: a total length that is not a multiple of
//!   16 ends in CKR_DATA_LEN_RANGE (encrypt) or CKR_ENCRYPTED_DATA_LEN_RANGE
//!   (decrypt). CBC and CBC_PAD take a 16-byte IV as parameter.
//! - CBC_PAD pads with PKCS#7. Decryption holds the last block back until
//!   C_DecryptFinal (it may be the padding); bad padding is
//!   CKR_ENCRYPTED_DATA_INVALID.
//! - GCM takes CK_GCM_PARAMS (3.0 layout, or 2.40's without ulIvBits): an
//!   IV of 1 to 2^32 - 1 bytes, AAD of up to 2^32 - 1 bytes, and a tag of
//!   96 to 128 bits in whole bytes; see [`AesGcm`].

use aws_lc_rs::aead;
use aws_lc_rs::cipher::{
    self, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
};
use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::awslc::gcm::GcmKey;
use crate::backend::MechParam;
use crate::error::{Result, Rv};
use crate::mechanisms::{key_value, no_param, CipherOp, Decrypt, Encrypt};
use crate::object::Attributes;
use crate::secure::WipedVec;

const BLOCK: usize = 16;
/// The tag lengths CKM_AES_GCM takes, in bits: NIST SP 800-38D §5.2.1.2's
/// 96 to 128. The spec allows 0 to 128; shorter tags (SP 800-38D's 32 and
/// 64 for special uses, and anything that is not whole bytes) are refused
/// in every profile, as no rule of `config::Rule` relaxes them.
const GCM_TAG_BITS: [CK_ULONG; 5] = [96, 104, 112, 120, 128];
/// The longest IV and AAD CK_GCM_PARAMS may give (3.0 §2.13.5: 2^32 - 1
/// bytes each).
const GCM_MAX_LEN: u64 = (1 << 32) - 1;
/// The IV and tag lengths aws-lc-rs's AEAD serves (bytes).
const FAST_IV_LEN: usize = 12;
const FAST_TAG_LEN: usize = 16;
const AES_KEYS: &[CK_KEY_TYPE] = &[CKK_AES];

/// The block modes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Ecb,
    Cbc,
    CbcPad,
}

/// CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD.
pub struct AesBlock(pub Mode);

pub static AES_ECB: AesBlock = AesBlock(Mode::Ecb);
pub static AES_CBC: AesBlock = AesBlock(Mode::Cbc);
pub static AES_CBC_PAD: AesBlock = AesBlock(Mode::CbcPad);

/// CKM_AES_GCM (3.0 Current Mechanisms §2.13.2; CK_GCM_PARAMS §2.13.5).
///
/// - The IV is ulIvLen bytes, 1 to 2^32 - 1 as 3.0 allows (2.40 said 256 at
///   most); ulIvBits is not used (the spec says not to). AAD may be empty
///   and up to 2^32 - 1 bytes long.
/// - ulTagBits may be 96, 104, 112, 120 or 128. The spec allows 0 to 128;
///   shorter tags and ones that are not whole bytes are
///   CKR_MECHANISM_PARAM_INVALID under every profile (no `config::Rule`
///   relaxes them: forging a 64-bit tag takes far fewer tries, NIST SP
///   800-38D appendix C), as are an empty or too long IV or AAD.
/// - A 96-bit IV with a 128-bit tag runs on aws-lc-rs's AEAD (the fast,
///   measured path); every other size on AWS-LC's EVP_AEAD through
///   `awslc::gcm`. Both give the same bytes for the same input.
/// - The output is ciphertext || tag. Both directions buffer until C_*Final
///   (decryption must not release plaintext before the tag is checked):
///   C_EncryptUpdate / C_DecryptUpdate return no bytes.
/// - A tag that does not match (wrong key, IV, AAD, ciphertext or tag) is
///   CKR_ENCRYPTED_DATA_INVALID and releases no plaintext: C_Decrypt's code
///   for invalid ciphertext, and the one clients map to a failed tag (Java's
///   SunPKCS11 turns it, and not 3.0's CKR_AEAD_DECRYPT_FAILED, into
///   AEADBadTagException). Input shorter than the tag is
///   CKR_ENCRYPTED_DATA_LEN_RANGE.
pub struct AesGcm;

pub static AES_GCM: AesGcm = AesGcm;

/// The key's value, which must be an AES key length.
fn key_bytes(key: &Attributes) -> Result<crate::secure::SecretBytes> {
    let value = key_value(key, CKA_VALUE)?;
    match value.len() {
        16 | 24 | 32 => Ok(value),
        _ => Err(Rv::KEY_SIZE_RANGE),
    }
}

/// An unbound aws-lc key (it copies the bytes; its schedule is wiped when
/// dropped, as aws-lc-rs zeroizes symmetric keys).
fn unbound(key: &Attributes) -> Result<UnboundCipherKey> {
    let value = key_bytes(key)?;
    let alg = match value.len() {
        16 => &cipher::AES_128,
        24 => &cipher::AES_192,
        _ => &cipher::AES_256,
    };
    UnboundCipherKey::new(alg, value.as_slice()).map_err(|_| Rv::KEY_SIZE_RANGE)
}

impl AesBlock {
    fn iv(&self, param: &MechParam) -> Result<[u8; BLOCK]> {
        match (self.0, param) {
            (Mode::Ecb, p) => no_param(p).map(|()| [0; BLOCK]),
            (_, MechParam::Bytes(iv)) => iv
                .as_slice()
                .try_into()
                .map_err(|_| Rv::MECHANISM_PARAM_INVALID),
            _ => Err(Rv::MECHANISM_PARAM_INVALID),
        }
    }

    fn start(
        &self,
        param: &MechParam,
        key: &Attributes,
        encrypt: bool,
    ) -> Result<Box<dyn CipherOp>> {
        let iv = self.iv(param)?;
        let key = unbound(key)?;
        let cbc = self.0 != Mode::Ecb;
        let key = match (encrypt, cbc) {
            (true, true) => BlockKey::Enc(EncryptingKey::cbc(key)),
            (true, false) => BlockKey::Enc(EncryptingKey::ecb(key)),
            (false, true) => BlockKey::Dec(DecryptingKey::cbc(key)),
            (false, false) => BlockKey::Dec(DecryptingKey::ecb(key)),
        };
        let key = match key {
            BlockKey::Enc(k) => BlockKey::Enc(k.map_err(|_| Rv::KEY_SIZE_RANGE)?),
            BlockKey::Dec(k) => BlockKey::Dec(k.map_err(|_| Rv::KEY_SIZE_RANGE)?),
        };
        Ok(Box::new(BlockOp {
            mode: self.0,
            key,
            iv,
            pending: WipedVec::new(),
        }))
    }
}

impl Encrypt for AesBlock {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        AES_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        AesBlock::start(self, param, key, true)
    }
}

impl Decrypt for AesBlock {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        AES_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        AesBlock::start(self, param, key, false)
    }
}

enum BlockKey<E, D> {
    Enc(E),
    Dec(D),
}

struct BlockOp {
    mode: Mode,
    key: BlockKey<EncryptingKey, DecryptingKey>,
    /// The chaining value: the IV, then the last ciphertext block.
    iv: [u8; BLOCK],
    /// Input not yet processed (less than a block, or CBC_PAD decryption's
    /// held-back last block).
    pending: WipedVec,
}

impl BlockOp {
    fn decrypting(&self) -> bool {
        matches!(self.key, BlockKey::Dec(_))
    }

    /// How many of `total` pending bytes an update may process now.
    fn ready(&self, total: usize) -> usize {
        let whole = total - total % BLOCK;
        if self.mode == Mode::CbcPad && self.decrypting() && whole == total {
            whole.saturating_sub(BLOCK)
        } else {
            whole
        }
    }

    /// Encrypt or decrypt whole blocks in place, chaining the IV.
    fn process(&mut self, blocks: &mut [u8]) -> Result<()> {
        if blocks.is_empty() {
            return Ok(());
        }
        let cbc = self.mode != Mode::Ecb;
        let last_in: [u8; BLOCK] = blocks[blocks.len() - BLOCK..]
            .try_into()
            .map_err(|_| Rv::GENERAL_ERROR)?;
        match &self.key {
            BlockKey::Enc(k) => {
                let ctx = if cbc {
                    EncryptionContext::Iv128(self.iv.into())
                } else {
                    EncryptionContext::None
                };
                k.less_safe_encrypt(blocks, ctx)
                    .map_err(|_| Rv::FUNCTION_FAILED)?;
                if cbc {
                    self.iv.copy_from_slice(&blocks[blocks.len() - BLOCK..]);
                }
            }
            BlockKey::Dec(k) => {
                let ctx = if cbc {
                    DecryptionContext::Iv128(self.iv.into())
                } else {
                    DecryptionContext::None
                };
                k.decrypt(blocks, ctx).map_err(|_| Rv::FUNCTION_FAILED)?;
                self.iv = last_in;
            }
        }
        Ok(())
    }

    fn length_error(&self) -> Rv {
        if self.decrypting() {
            Rv::ENCRYPTED_DATA_LEN_RANGE
        } else {
            Rv::DATA_LEN_RANGE
        }
    }
}

impl CipherOp for BlockOp {
    fn update_len(&self, input_len: usize) -> usize {
        self.ready(self.pending.len() + input_len)
    }

    fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize> {
        let n = self.update_len(input.len());
        let out = out.get_mut(..n).ok_or(Rv::GENERAL_ERROR)?;
        let from_pending = n.min(self.pending.len());
        out[..from_pending].copy_from_slice(&self.pending[..from_pending]);
        out[from_pending..].copy_from_slice(&input[..n - from_pending]);
        self.pending.drain(..from_pending);
        self.pending.extend_from_slice(&input[n - from_pending..]);
        self.process(out)?;
        Ok(n)
    }

    fn final_len(&self) -> usize {
        match self.mode {
            Mode::CbcPad => BLOCK,
            _ => 0,
        }
    }

    fn finish(mut self: Box<Self>, out: &mut [u8]) -> Result<usize> {
        let pending = std::mem::take(&mut self.pending);
        match (self.mode, self.decrypting()) {
            (Mode::Ecb | Mode::Cbc, _) => {
                if pending.is_empty() {
                    Ok(0)
                } else {
                    Err(self.length_error())
                }
            }
            (Mode::CbcPad, false) => {
                let pad = BLOCK - pending.len();
                let mut block = Zeroizing::new([pad as u8; BLOCK]);
                block[..pending.len()].copy_from_slice(&pending);
                self.process(&mut block[..])?;
                out.get_mut(..BLOCK)
                    .ok_or(Rv::GENERAL_ERROR)?
                    .copy_from_slice(&block[..]);
                Ok(BLOCK)
            }
            (Mode::CbcPad, true) => {
                let mut block: Zeroizing<[u8; BLOCK]> = Zeroizing::new(
                    pending
                        .as_slice()
                        .try_into()
                        .map_err(|_| Rv::ENCRYPTED_DATA_LEN_RANGE)?,
                );
                self.process(&mut block[..])?;
                let pad = block[BLOCK - 1] as usize;
                let valid = (1..=BLOCK).contains(&pad)
                    && block[BLOCK - pad..].iter().all(|b| *b as usize == pad);
                if !valid {
                    return Err(Rv::ENCRYPTED_DATA_INVALID);
                }
                let n = BLOCK - pad;
                out.get_mut(..n)
                    .ok_or(Rv::GENERAL_ERROR)?
                    .copy_from_slice(&block[..n]);
                Ok(n)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// GCM.

impl AesGcm {
    /// Check CK_GCM_PARAMS against the spec and the token's policy and
    /// build the operation on the path that serves those sizes.
    fn start(
        &self,
        param: &MechParam,
        key: &Attributes,
        encrypt: bool,
    ) -> Result<Box<dyn CipherOp>> {
        let MechParam::Gcm { iv, aad, tag_bits } = param else {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        };
        if !GCM_TAG_BITS.contains(tag_bits) {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        if iv.is_empty() || iv.len() as u64 > GCM_MAX_LEN || aad.len() as u64 > GCM_MAX_LEN {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        let tag_len = (*tag_bits / 8) as usize;
        let value = key_bytes(key)?;
        let engine = match <[u8; FAST_IV_LEN]>::try_from(iv.as_slice()) {
            Ok(nonce) if tag_len == FAST_TAG_LEN => {
                let alg = match value.len() {
                    16 => &aead::AES_128_GCM,
                    24 => &aead::AES_192_GCM,
                    _ => &aead::AES_256_GCM,
                };
                let key =
                    aead::UnboundKey::new(alg, value.as_slice()).map_err(|_| Rv::KEY_SIZE_RANGE)?;
                GcmEngine::Fast {
                    key: aead::LessSafeKey::new(key),
                    nonce,
                }
            }
            _ => GcmEngine::Any {
                key: GcmKey::new(&value, tag_len)?,
                iv: iv.clone(),
            },
        };
        Ok(Box::new(GcmOp {
            engine,
            tag_len,
            aad: aad.clone(),
            encrypt,
            data: WipedVec::new(),
        }))
    }
}

impl Encrypt for AesGcm {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        AES_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        AesGcm::start(self, param, key, true)
    }
}

impl Decrypt for AesGcm {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        AES_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        AesGcm::start(self, param, key, false)
    }
}

/// Who does the GCM arithmetic.
enum GcmEngine {
    /// aws-lc-rs's AEAD: the 96-bit IV and 128-bit tag (measured fastest).
    Fast {
        key: aead::LessSafeKey,
        nonce: [u8; FAST_IV_LEN],
    },
    /// AWS-LC's EVP_AEAD through `awslc::gcm`: any other IV or tag length.
    Any { key: GcmKey, iv: Vec<u8> },
}

struct GcmOp {
    engine: GcmEngine,
    /// The tag length in bytes (12 to 16).
    tag_len: usize,
    aad: Vec<u8>,
    encrypt: bool,
    /// Everything fed so far (plaintext when encrypting: wiped on drop).
    data: WipedVec,
}

impl GcmOp {
    /// The output for `total` bytes of input.
    fn output_len(&self, total: usize) -> usize {
        if self.encrypt {
            total + self.tag_len
        } else {
            total.saturating_sub(self.tag_len)
        }
    }

    fn seal(&mut self, out: &mut [u8]) -> Result<usize> {
        let data = &mut *self.data;
        let n = data.len();
        let out = out.get_mut(..n + self.tag_len).ok_or(Rv::GENERAL_ERROR)?;
        match &self.engine {
            GcmEngine::Fast { key, nonce } => {
                let nonce = aead::Nonce::assume_unique_for_key(*nonce);
                let aad = aead::Aad::from(self.aad.as_slice());
                let tag = key
                    .seal_in_place_separate_tag(nonce, aad, data)
                    .map_err(|_| Rv::DATA_LEN_RANGE)?;
                out[..n].copy_from_slice(data);
                out[n..].copy_from_slice(tag.as_ref());
                Ok(n + self.tag_len)
            }
            GcmEngine::Any { key, iv } => key.seal(iv, &self.aad, data, out),
        }
    }

    fn open(&mut self, out: &mut [u8]) -> Result<usize> {
        let data = &mut *self.data;
        if data.len() < self.tag_len {
            return Err(Rv::ENCRYPTED_DATA_LEN_RANGE);
        }
        // Opened in the op's own buffer; only a checked plaintext is copied
        // to the caller's.
        let plain: &[u8] = match &self.engine {
            GcmEngine::Fast { key, nonce } => {
                let nonce = aead::Nonce::assume_unique_for_key(*nonce);
                let aad = aead::Aad::from(self.aad.as_slice());
                key.open_in_place(nonce, aad, data)
                    .map_err(|_| Rv::ENCRYPTED_DATA_INVALID)?
            }
            GcmEngine::Any { key, iv } => {
                let n = key.open_in_place(iv, &self.aad, data)?;
                &data[..n]
            }
        };
        let n = plain.len();
        out.get_mut(..n)
            .ok_or(Rv::GENERAL_ERROR)?
            .copy_from_slice(plain);
        Ok(n)
    }
}

impl CipherOp for GcmOp {
    fn update_len(&self, _input_len: usize) -> usize {
        0
    }

    fn update(&mut self, input: &[u8], _out: &mut [u8]) -> Result<usize> {
        self.data.extend_from_slice(input);
        Ok(0)
    }

    fn final_len(&self) -> usize {
        self.output_len(self.data.len())
    }

    fn oneshot_len(&self, input_len: usize) -> usize {
        self.output_len(self.data.len() + input_len)
    }

    fn finish(mut self: Box<Self>, out: &mut [u8]) -> Result<usize> {
        if self.encrypt {
            self.seal(out)
        } else {
            self.open(out)
        }
    }

    /// Single-part encryption with the fast engine seals in the caller's
    /// buffer: no copy of the plaintext is made (a 1 MiB message spent more
    /// time in the buffer than in AES). Decryption keeps the op's own
    /// buffer, so an unauthenticated plaintext never reaches the caller.
    fn oneshot(mut self: Box<Self>, input: &[u8], out: &mut [u8]) -> Result<usize> {
        if let (true, true, GcmEngine::Fast { key, nonce }) =
            (self.encrypt, self.data.is_empty(), &self.engine)
        {
            let n = input.len();
            let out = out.get_mut(..n + self.tag_len).ok_or(Rv::GENERAL_ERROR)?;
            let (body, tag_out) = out.split_at_mut(n);
            body.copy_from_slice(input);
            let nonce = aead::Nonce::assume_unique_for_key(*nonce);
            let aad = aead::Aad::from(self.aad.as_slice());
            let tag = key
                .seal_in_place_separate_tag(nonce, aad, body)
                .map_err(|_| Rv::DATA_LEN_RANGE)?;
            tag_out.copy_from_slice(tag.as_ref());
            return Ok(n + self.tag_len);
        }
        self.update(input, &mut [])?;
        self.finish(out)
    }
}

// ---------------------------------------------------------------------------
// CTR.

/// CKM_AES_CTR. The parameter is CK_AES_CTR_PARAMS (ulCounterBits, then the
/// 16-byte initial counter block); the low ulCounterBits bits of the block
/// count, and input that would make them wrap is CKR_DATA_LEN_RANGE (the
/// spec forbids reusing a counter value). Encryption and decryption are the
/// same operation.
pub struct AesCtr;

pub static AES_CTR: AesCtr = AesCtr;

impl AesCtr {
    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        const ULONG: usize = std::mem::size_of::<CK_ULONG>();
        let MechParam::Bytes(p) = param else {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        };
        if p.len() != ULONG + BLOCK {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        let mut bits = [0u8; ULONG];
        bits.copy_from_slice(&p[..ULONG]);
        let bits = CK_ULONG::from_ne_bytes(bits);
        if !(1..=128).contains(&bits) {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        let mut counter = [0u8; BLOCK];
        counter.copy_from_slice(&p[ULONG..]);
        let mask = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        // Counter values left: from the initial one to the mask, inclusive.
        let left =
            Some(mask - (u128::from_be_bytes(counter) & mask)).and_then(|n| n.checked_add(1));
        let key = EncryptingKey::ecb(unbound(key)?).map_err(|_| Rv::KEY_SIZE_RANGE)?;
        Ok(Box::new(CtrOp {
            key,
            counter,
            mask,
            left,
            keystream: Zeroizing::new([0u8; BLOCK]),
            used: BLOCK,
        }))
    }
}

impl Encrypt for AesCtr {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        AES_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        AesCtr::start(self, param, key)
    }
}

impl Decrypt for AesCtr {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        AES_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        AesCtr::start(self, param, key)
    }
}

struct CtrOp {
    key: EncryptingKey,
    /// The next counter block.
    counter: [u8; BLOCK],
    mask: u128,
    /// Counter values not yet used (None: 2^128, more than any input).
    left: Option<u128>,
    keystream: Zeroizing<[u8; BLOCK]>,
    /// Bytes of `keystream` already used.
    used: usize,
}

impl CtrOp {
    /// The next keystream block.
    fn next_block(&mut self) -> Result<()> {
        if let Some(left) = self.left.as_mut() {
            *left = left.checked_sub(1).ok_or(Rv::DATA_LEN_RANGE)?;
        }
        self.keystream.copy_from_slice(&self.counter);
        self.key
            .less_safe_encrypt(&mut self.keystream[..], EncryptionContext::None)
            .map_err(|_| Rv::FUNCTION_FAILED)?;
        let value = u128::from_be_bytes(self.counter);
        let next = (value & !self.mask) | (value.wrapping_add(1) & self.mask);
        self.counter = next.to_be_bytes();
        self.used = 0;
        Ok(())
    }
}

impl CipherOp for CtrOp {
    fn update_len(&self, input_len: usize) -> usize {
        input_len
    }

    fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize> {
        let out = out.get_mut(..input.len()).ok_or(Rv::GENERAL_ERROR)?;
        for (o, i) in out.iter_mut().zip(input) {
            if self.used == BLOCK {
                self.next_block()?;
            }
            *o = i ^ self.keystream[self.used];
            self.used += 1;
        }
        Ok(input.len())
    }

    fn final_len(&self) -> usize {
        0
    }

    fn finish(self: Box<Self>, _out: &mut [u8]) -> Result<usize> {
        Ok(0)
    }
}

#[cfg(test)]
#[path = "aes_tests.rs"]
mod tests;
