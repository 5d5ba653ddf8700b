//! Running MD5, SHA-1 and SHA-2 hashes on AWS-LC's low-level contexts
//! (`MD5_CTX`, `SHA_CTX`, `SHA256_CTX` for SHA-224/256, `SHA512_CTX` for
//! SHA-384/512), whose state can be written out and read back: what
//! C_GetOperationState and C_SetOperationState (PKCS#11 3.0 §5.6) need for
//! a digest.
//!
//! # Why the C API
//!
//! aws-lc-rs's `digest::Context` keeps its state private. These contexts
//! are the ones its EVP layer runs underneath, declared with their fields in
//! AWS-LC's public headers (`<openssl/sha.h>`, `<openssl/md5.h>`), so the
//! same code hashes either way; calling `SHA256_Update` directly skips the
//! EVP dispatch.
//!
//! # The exported state
//!
//! Big-endian: the chaining words `h` (4, 5, 8 or 8 words of 4, 4, 4 or 8
//! bytes), the bit count `Nl` then `Nh` (one word each), the number of
//! buffered bytes `num` (one byte), then those `num` bytes. Its length is
//! therefore exact for a given `num`, and nothing of the buffer beyond `num`
//! (stale input) leaves the token. The algorithm is not in it: the caller
//! records which hash it was (the mechanism).
//!
//! # Importing bytes from a client
//!
//! [`HashCtx::import`] trusts nothing: the length must be exact, `num` must
//! be below the block size (AWS-LC's update copies `block - num` bytes to
//! `data + num`: a larger `num` would write past the buffer), and the bit
//! count must agree with it (`Nl` a whole number of bytes, and that number
//! modulo the block size equal to `num`), which any state this module
//! exported satisfies. The chaining words may hold any value: they only
//! change which digest comes out. The context is made by the algorithm's
//! own `*_Init` first, so the fields not exported (`md_len`) are AWS-LC's.
//!
//! # Memory
//!
//! The contexts are plain data held inline; the buffer may hold key bytes
//! (C_DigestKey), so a context is wiped with `OPENSSL_cleanse` on drop.

use std::ffi::c_void;
use std::os::raw::c_uint;

use aws_lc_sys as sys;

use crate::error::{Result, Rv};

/// The longest digest here (SHA-512), in bytes.
pub(crate) const MAX_OUTPUT_LEN: usize = 64;

/// A hash these contexts run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// The digest's length in bytes.
    pub(crate) fn output_len(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha224 => 28,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }
}

/// A running hash on an AWS-LC context (wiped on drop).
pub(crate) struct HashCtx(Inner);

enum Inner {
    Md5(sys::MD5_CTX),
    Sha1(sys::SHA_CTX),
    Sha224(sys::SHA256_CTX),
    Sha256(sys::SHA256_CTX),
    Sha384(sys::SHA512_CTX),
    Sha512(sys::SHA512_CTX),
}

impl HashCtx {
    /// A new running hash of `alg`.
    pub(crate) fn new(alg: Algorithm) -> HashCtx {
        // SAFETY: each *_Init writes only the zeroed context it is given,
        // a local we own; they cannot fail (AWS-LC returns 1 always).
        unsafe {
            HashCtx(match alg {
                Algorithm::Md5 => Inner::Md5(init(|c| sys::MD5_Init(c))),
                Algorithm::Sha1 => Inner::Sha1(init(|c| sys::SHA1_Init(c))),
                Algorithm::Sha224 => Inner::Sha224(init(|c| sys::SHA224_Init(c))),
                Algorithm::Sha256 => Inner::Sha256(init(|c| sys::SHA256_Init(c))),
                Algorithm::Sha384 => Inner::Sha384(init(|c| sys::SHA384_Init(c))),
                Algorithm::Sha512 => Inner::Sha512(init(|c| sys::SHA512_Init(c))),
            })
        }
    }

    /// The hash this context runs.
    pub(crate) fn algorithm(&self) -> Algorithm {
        match self.0 {
            Inner::Md5(_) => Algorithm::Md5,
            Inner::Sha1(_) => Algorithm::Sha1,
            Inner::Sha224(_) => Algorithm::Sha224,
            Inner::Sha256(_) => Algorithm::Sha256,
            Inner::Sha384(_) => Algorithm::Sha384,
            Inner::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Feed data.
    pub(crate) fn update(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let (p, n) = (data.as_ptr().cast::<c_void>(), data.len());
        // SAFETY: the context is initialized (every constructor runs its
        // *_Init) and its `num` is below the block size (AWS-LC keeps it so,
        // and `import` checks it); `data` is valid for reads of `n` bytes.
        // The *_Update functions cannot fail (they return 1 always).
        unsafe {
            match &mut self.0 {
                Inner::Md5(c) => sys::MD5_Update(c, p, n),
                Inner::Sha1(c) => sys::SHA1_Update(c, p, n),
                Inner::Sha224(c) => sys::SHA224_Update(c, p, n),
                Inner::Sha256(c) => sys::SHA256_Update(c, p, n),
                Inner::Sha384(c) => sys::SHA384_Update(c, p, n),
                Inner::Sha512(c) => sys::SHA512_Update(c, p, n),
            };
        }
    }

    /// The digest, in the first [`Algorithm::output_len`] bytes of `out`;
    /// returns that length.
    pub(crate) fn finish(mut self, out: &mut [u8; MAX_OUTPUT_LEN]) -> usize {
        let o = out.as_mut_ptr();
        // SAFETY: `out` has room for the longest digest; the context is
        // initialized by the matching *_Init (so its `md_len` is the one the
        // *_Final expects, and the call returns 1).
        let ok = unsafe {
            match &mut self.0 {
                Inner::Md5(c) => sys::MD5_Final(o, c),
                Inner::Sha1(c) => sys::SHA1_Final(o, c),
                Inner::Sha224(c) => sys::SHA224_Final(o, c),
                Inner::Sha256(c) => sys::SHA256_Final(o, c),
                Inner::Sha384(c) => sys::SHA384_Final(o, c),
                Inner::Sha512(c) => sys::SHA512_Final(o, c),
            }
        };
        debug_assert_eq!(ok, 1, "*_Final of a context its own *_Init made");
        self.algorithm().output_len()
    }

    /// The running state, in the format of the module documentation.
    pub(crate) fn export(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(state_len(self.algorithm(), 127));
        match &self.0 {
            Inner::Md5(c) => c.export(&mut out),
            Inner::Sha1(c) => c.export(&mut out),
            Inner::Sha224(c) | Inner::Sha256(c) => c.export(&mut out),
            Inner::Sha384(c) | Inner::Sha512(c) => c.export(&mut out),
        }
        out
    }

    /// A running hash of `alg` from a state [`HashCtx::export`] wrote,
    /// checked as the module documentation says.
    ///
    /// # Errors
    /// CKR_SAVED_STATE_INVALID for bytes that are not such a state.
    pub(crate) fn import(alg: Algorithm, state: &[u8]) -> Result<HashCtx> {
        let mut ctx = HashCtx::new(alg);
        match &mut ctx.0 {
            Inner::Md5(c) => c.import(state)?,
            Inner::Sha1(c) => c.import(state)?,
            Inner::Sha224(c) | Inner::Sha256(c) => c.import(state)?,
            Inner::Sha384(c) | Inner::Sha512(c) => c.import(state)?,
        }
        Ok(ctx)
    }
}

impl Drop for HashCtx {
    fn drop(&mut self) {
        match &mut self.0 {
            Inner::Md5(c) => cleanse(c),
            Inner::Sha1(c) => cleanse(c),
            Inner::Sha224(c) | Inner::Sha256(c) => cleanse(c),
            Inner::Sha384(c) | Inner::Sha512(c) => cleanse(c),
        }
    }
}

/// The length of an exported state of `alg` with `num` buffered bytes.
pub(crate) fn state_len(alg: Algorithm, num: usize) -> usize {
    let (words, word) = match alg {
        Algorithm::Md5 => (4, 4),
        Algorithm::Sha1 => (5, 4),
        Algorithm::Sha224 | Algorithm::Sha256 => (8, 4),
        Algorithm::Sha384 | Algorithm::Sha512 => (8, 8),
    };
    (words + 2) * word + 1 + num
}

/// A zeroed context after `init` ran on it.
fn init<T: Default>(init: impl FnOnce(&mut T) -> std::os::raw::c_int) -> T {
    let mut ctx = T::default();
    init(&mut ctx);
    ctx
}

/// Overwrite a context with zeros (which every field allows).
fn cleanse<T: Copy>(ctx: &mut T) {
    // SAFETY: `ctx` is valid for writes of size_of::<T>() bytes, and T is
    // one of AWS-LC's plain-data hash contexts (integers and byte arrays),
    // for which all-zero bytes are a valid value.
    unsafe { sys::OPENSSL_cleanse((ctx as *mut T).cast::<c_void>(), std::mem::size_of::<T>()) }
}

/// Export and import of one kind of AWS-LC context.
trait Fields {
    fn export(&self, out: &mut Vec<u8>);
    fn import(&mut self, state: &[u8]) -> Result<()>;
}

/// [`Fields`] for a context type: its word type and the name of its buffer
/// (`data`, or `p` in `SHA512_CTX`).
macro_rules! fields {
    ($ctx:ty, $word:ty, $buf:ident) => {
        impl Fields for $ctx {
            fn export(&self, out: &mut Vec<u8>) {
                for w in self.h {
                    out.extend_from_slice(&w.to_be_bytes());
                }
                out.extend_from_slice(&self.Nl.to_be_bytes());
                out.extend_from_slice(&self.Nh.to_be_bytes());
                // AWS-LC keeps `num` below the block size (under 256); a
                // value out of range would be written as is, and refused on
                // import.
                let num = self.num as usize;
                out.push(num as u8);
                out.extend_from_slice(self.$buf.get(..num).unwrap_or(&[]));
            }

            fn import(&mut self, state: &[u8]) -> Result<()> {
                const WORD: usize = std::mem::size_of::<$word>();
                let mut r = Reader(state);
                let mut h = self.h;
                for w in h.iter_mut() {
                    *w = <$word>::from_be_bytes(r.array::<WORD>()?);
                }
                let nl = <$word>::from_be_bytes(r.array::<WORD>()?);
                let nh = <$word>::from_be_bytes(r.array::<WORD>()?);
                let [num] = r.array::<1>()?;
                let num = usize::from(num);
                let block = self.$buf.len();
                let bytes_mod_block = usize::try_from((nl / 8) % (block as $word))
                    .map_err(|_| Rv::SAVED_STATE_INVALID)?;
                if num >= block || nl % 8 != 0 || bytes_mod_block != num {
                    return Err(Rv::SAVED_STATE_INVALID);
                }
                let buffered = r.rest();
                if buffered.len() != num {
                    return Err(Rv::SAVED_STATE_INVALID);
                }
                self.h = h;
                self.Nl = nl;
                self.Nh = nh;
                self.$buf[..num].copy_from_slice(buffered);
                self.num = num as c_uint;
                Ok(())
            }
        }
    };
}

fields!(sys::MD5_CTX, u32, data);
fields!(sys::SHA_CTX, u32, data);
fields!(sys::SHA256_CTX, u32, data);
fields!(sys::SHA512_CTX, u64, p);

/// A cursor over untrusted bytes.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    /// The next N bytes.
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(Rv::SAVED_STATE_INVALID)?;
        self.0 = rest;
        Ok(*head)
    }

    /// What is left.
    fn rest(&self) -> &[u8] {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Algorithm; 6] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha224,
        Algorithm::Sha256,
        Algorithm::Sha384,
        Algorithm::Sha512,
    ];

    fn digest(ctx: HashCtx) -> Vec<u8> {
        let mut out = [0u8; MAX_OUTPUT_LEN];
        let n = ctx.finish(&mut out);
        out[..n].to_vec()
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// Inputs that leave 0, 1, a block less one, and a few bytes buffered
    /// (for both block sizes), after none, one and several whole blocks.
    fn cut_points() -> Vec<usize> {
        vec![
            0, 1, 3, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 300, 1000,
        ]
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn known_answers_abc() {
        let want = [
            "900150983cd24fb0d6963f7d28e17f72",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ];
        for (alg, want) in ALL.into_iter().zip(want) {
            let mut ctx = HashCtx::new(alg);
            ctx.update(b"a");
            ctx.update(b"");
            ctx.update(b"bc");
            assert_eq!(hex(&digest(ctx)), want, "{alg:?}");
        }
    }

    #[test]
    fn export_import_round_trip_per_hash() {
        let all = data(1500);
        for alg in ALL {
            let mut whole = HashCtx::new(alg);
            whole.update(&all);
            let want = digest(whole);
            for cut in cut_points() {
                let mut first = HashCtx::new(alg);
                first.update(&all[..cut]);
                let state = first.export();
                let block = if matches!(alg, Algorithm::Sha384 | Algorithm::Sha512) {
                    128
                } else {
                    64
                };
                assert_eq!(state.len(), state_len(alg, cut % block), "{alg:?} {cut}");
                let mut second = HashCtx::import(alg, &state).expect("imports");
                assert_eq!(second.export(), state, "{alg:?} {cut}: same state back");
                second.update(&all[cut..]);
                assert_eq!(digest(second), want, "{alg:?} cut at {cut}");
                // The exporting context goes on unchanged too.
                first.update(&all[cut..]);
                assert_eq!(digest(first), want, "{alg:?} {cut}: source intact");
            }
        }
    }

    #[test]
    fn every_truncation_and_extension_is_refused() {
        for alg in ALL {
            for cut in [0, 5, 64, 130] {
                let mut ctx = HashCtx::new(alg);
                ctx.update(&data(cut));
                let state = ctx.export();
                for len in 0..state.len() {
                    assert!(
                        matches!(
                            HashCtx::import(alg, &state[..len]),
                            Err(Rv::SAVED_STATE_INVALID)
                        ),
                        "{alg:?} {cut}: {len} of {} bytes",
                        state.len()
                    );
                }
                let mut longer = state.clone();
                longer.push(0);
                assert!(HashCtx::import(alg, &longer).is_err(), "{alg:?} {cut}");
            }
        }
    }

    /// Where `num` sits in an exported state of `alg`.
    fn num_at(alg: Algorithm) -> usize {
        state_len(alg, 0) - 1
    }

    #[test]
    fn buffered_count_out_of_range_is_refused() {
        for alg in ALL {
            let mut ctx = HashCtx::new(alg);
            ctx.update(&data(10));
            let state = ctx.export();
            let at = num_at(alg);
            assert_eq!(state[at], 10);
            // Every other count, with its bytes present: at or past the
            // block size (the out-of-bounds write AWS-LC would do), or
            // disagreeing with the bit count.
            for num in (0..=255u8).filter(|&n| n != 10) {
                let mut bad = state[..at].to_vec();
                bad.push(num);
                bad.extend(std::iter::repeat_n(0xAA, num.into()));
                assert!(
                    matches!(HashCtx::import(alg, &bad), Err(Rv::SAVED_STATE_INVALID)),
                    "{alg:?} num {num}"
                );
            }
        }
    }

    #[test]
    fn bit_count_disagreeing_is_refused() {
        for alg in ALL {
            let mut ctx = HashCtx::new(alg);
            ctx.update(&data(10));
            let state = ctx.export();
            // The last byte of Nl (big-endian), just before Nh.
            let word = if matches!(alg, Algorithm::Sha384 | Algorithm::Sha512) {
                8
            } else {
                4
            };
            let nl_last = num_at(alg) - word - 1;
            for flip in [1u8, 8, 0x80] {
                let mut bad = state.clone();
                bad[nl_last] ^= flip;
                assert!(
                    matches!(HashCtx::import(alg, &bad), Err(Rv::SAVED_STATE_INVALID)),
                    "{alg:?} Nl ^ {flip}"
                );
            }
            // A count of whole blocks more agrees, and is accepted: the
            // chaining words and counts are the client's to choose.
            let mut more = state.clone();
            more[nl_last - 1] ^= 0x10;
            assert!(HashCtx::import(alg, &more).is_ok(), "{alg:?}");
        }
    }

    #[test]
    fn drop_and_finish_of_fresh_contexts() {
        for alg in ALL {
            drop(HashCtx::new(alg));
            assert_eq!(digest(HashCtx::new(alg)).len(), alg.output_len());
        }
    }
}
