//! Secret buffers.
//!
//! [`SecretBytes`] holds key material in memory from the secure allocator
//! (`arena`): locked, excluded from core dumps, wiped in a forked child,
//! zeroized when freed. `ScratchSlice` is the same kind of memory, unlocked,
//! for large working areas such as a KDF's (too large to lock within a
//! typical RLIMIT_MEMLOCK).

use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Result, Rv};
use crate::secure::arena::{self, Mapping};

/// A buffer holding key material: in locked, non-dumpable memory, wiped on
/// drop; not `Clone`; `Debug` shows only its length.
pub struct SecretBytes {
    ptr: NonNull<u8>,
    len: usize,
    alloc: Alloc,
}

/// Where a [`SecretBytes`]' memory came from.
enum Alloc {
    /// Nothing (length 0).
    Empty,
    /// A slot of the shared arena.
    Slot { cap: usize, page: u32, slot: u16 },
    /// A dedicated mapping (secrets larger than a page).
    Mapped(Mapping),
}

// SAFETY: a SecretBytes exclusively owns its memory (a slot or a mapping);
// the arena it returns slots to is behind a lock.
unsafe impl Send for SecretBytes {}
// SAFETY: `&SecretBytes` only gives out `&[u8]`; there is no interior
// mutability.
unsafe impl Sync for SecretBytes {}

impl SecretBytes {
    /// A zero-filled secret buffer of `len` bytes.
    ///
    /// # Panics
    /// When secret memory cannot be mapped at all (out of memory); the ABI
    /// layer's panic guard turns that into CKR_GENERAL_ERROR. Use
    /// [`SecretBytes::try_zeroed`] where the error can be returned.
    pub fn zeroed(len: usize) -> SecretBytes {
        match SecretBytes::try_zeroed(len) {
            Ok(s) => s,
            Err(_) => panic!("secure memory: cannot allocate {len} secret bytes"),
        }
    }

    /// A zero-filled secret buffer of `len` bytes.
    ///
    /// # Errors
    /// CKR_HOST_MEMORY when secret memory cannot be mapped.
    pub fn try_zeroed(len: usize) -> Result<SecretBytes> {
        if len == 0 {
            return Ok(SecretBytes {
                ptr: NonNull::dangling(),
                len: 0,
                alloc: Alloc::Empty,
            });
        }
        if len <= arena::max_slab_len() {
            let slot = arena::alloc_global(len)?;
            // SAFETY: the slot is `cap ≥ len` writable bytes owned by us
            // from now on. Free slots are zero already; this is cheap
            // insurance against a bookkeeping bug leaking another secret.
            unsafe { std::ptr::write_bytes(slot.ptr.as_ptr(), 0, len) };
            return Ok(SecretBytes {
                ptr: slot.ptr,
                len,
                alloc: Alloc::Slot {
                    cap: slot.cap,
                    page: slot.page,
                    slot: slot.slot,
                },
            });
        }
        let map = Mapping::new(len, true)?;
        Ok(SecretBytes {
            ptr: map.ptr(),
            len,
            alloc: Alloc::Mapped(map),
        })
    }

    /// A secret buffer holding a copy of `bytes`.
    ///
    /// # Panics
    /// As [`SecretBytes::zeroed`].
    pub fn from_slice(bytes: &[u8]) -> SecretBytes {
        let mut s = SecretBytes::zeroed(bytes.len());
        s.as_mut_slice().copy_from_slice(bytes);
        s
    }

    /// A secret buffer holding a copy of `bytes`.
    ///
    /// # Errors
    /// CKR_HOST_MEMORY when secret memory cannot be mapped.
    pub fn try_from_slice(bytes: &[u8]) -> Result<SecretBytes> {
        let mut s = SecretBytes::try_zeroed(bytes.len())?;
        s.as_mut_slice().copy_from_slice(bytes);
        Ok(s)
    }

    /// The secret's bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `len` initialized bytes (a zero-filled
        // slot or mapping, or dangling with len 0) for as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The secret's bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Shorten to `len` bytes (no effect if already shorter), zeroizing the
    /// bytes cut off. For decrypting in place, then dropping padding or tag.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            wipe(&mut self.as_mut_slice()[len..]);
            self.len = len;
        }
    }
}

impl Zeroize for SecretBytes {
    fn zeroize(&mut self) {
        wipe(self.as_mut_slice());
    }
}

impl ZeroizeOnDrop for SecretBytes {}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.alloc, Alloc::Empty) {
            Alloc::Empty => {}
            Alloc::Slot { cap, page, slot } => {
                // SAFETY: the whole slot (`cap` bytes from `ptr`) is ours
                // until it is returned below; wiping all of it, not only
                // `len`, keeps the arena's "free slots are zero" invariant
                // even after `truncate`.
                wipe(unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), cap) });
                arena::free_global(page, slot);
            }
            // Mapping's Drop zeroizes and unmaps.
            Alloc::Mapped(map) => drop(map),
        }
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.len)
    }
}

/// A large working area for secret-dependent state (a KDF's memory): excluded
/// from core dumps, wiped in a forked child, zeroized and unmapped on drop.
/// Not locked: it is typically larger than RLIMIT_MEMLOCK allows.
pub(crate) struct ScratchSlice<T: Copy + Default> {
    map: Mapping,
    len: usize,
    _t: PhantomData<T>,
}

impl<T: Copy + Default> ScratchSlice<T> {
    /// `len` values of `T::default()`.
    ///
    /// # Errors
    /// CKR_HOST_MEMORY when the area cannot be mapped or its size overflows;
    /// CKR_GENERAL_ERROR if `T` needs more than page alignment.
    pub(crate) fn new(len: usize) -> Result<ScratchSlice<T>> {
        if std::mem::align_of::<T>() > arena::page_size() {
            return Err(Rv::GENERAL_ERROR);
        }
        let bytes = len
            .checked_mul(std::mem::size_of::<T>())
            .ok_or(Rv::HOST_MEMORY)?;
        let map = Mapping::new(bytes, false)?;
        let base = map.ptr().as_ptr().cast::<T>();
        for i in 0..len {
            // SAFETY: the mapping is page-aligned (≥ align_of::<T>, checked
            // above) and at least len * size_of::<T>() bytes, so slot `i` is
            // in bounds and aligned; `write` initializes it without reading.
            unsafe { base.add(i).write(T::default()) };
        }
        Ok(ScratchSlice {
            map,
            len,
            _t: PhantomData,
        })
    }

    /// The values, writable.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: `len` values were initialized in `new`; the mapping lives
        // as long as `self` and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.map.ptr().as_ptr().cast::<T>(), self.len) }
    }
}

// `T: Copy` has no drop glue; Mapping's Drop zeroizes and unmaps the memory.

/// Overwrite `bytes` with zeros, in a way the compiler may not elide,
/// at memset speed: glibc's `explicit_bzero` (the `zeroize` crate writes
/// byte by byte, ~300 µs per MiB, which dominated bulk AES-GCM).
pub fn wipe(bytes: &mut [u8]) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `bytes` is a valid, exclusively borrowed region of
        // `bytes.len()` bytes.
        unsafe { libc::explicit_bzero(bytes.as_mut_ptr().cast(), bytes.len()) }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    bytes.zeroize();
}

/// A growable buffer for bulk data that may be secret (a plaintext being
/// encrypted, a decryption's output): ordinary memory, its whole capacity
/// wiped with [`wipe`] on drop. For key material use [`SecretBytes`].
#[derive(Default)]
pub struct WipedVec(Vec<u8>);

impl WipedVec {
    /// An empty buffer.
    pub fn new() -> WipedVec {
        WipedVec(Vec::new())
    }
}

impl std::ops::Deref for WipedVec {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for WipedVec {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Drop for WipedVec {
    fn drop(&mut self) {
        let cap = self.0.capacity();
        // SAFETY: the allocation holds `cap` bytes; u8 has no invalid bit
        // patterns, and the Vec is not used again.
        let all = unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr(), cap) };
        wipe(all);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn basics() {
        let s = SecretBytes::from_slice(b"abc");
        assert_eq!(s.as_slice(), b"abc");
        assert_eq!(s.len(), 3);
        assert!(!s.is_empty());
        let e = SecretBytes::zeroed(0);
        assert!(e.is_empty());
        assert_eq!(e.as_slice(), b"");
        let z = SecretBytes::zeroed(100);
        assert!(z.as_slice().iter().all(|&b| b == 0));
    }

    #[test]
    fn debug_is_redacted() {
        let s = SecretBytes::from_slice(b"hunter2-secret");
        let shown = format!("{s:?}");
        assert_eq!(shown, "SecretBytes([REDACTED; 14])");
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn send_sync_zeroize_on_drop() {
        fn check<T: Send + Sync + ZeroizeOnDrop>() {}
        check::<SecretBytes>();
    }

    #[test]
    fn truncate_wipes_the_tail() {
        let mut s = SecretBytes::from_slice(&[7u8; 48]);
        s.truncate(10);
        assert_eq!(s.as_slice(), &[7u8; 10]);
        // SAFETY: the slot is still ours and at least 48 bytes long.
        let tail = unsafe { std::slice::from_raw_parts(s.ptr.as_ptr().add(10), 38) };
        assert!(tail.iter().all(|&b| b == 0));
        s.truncate(20);
        assert_eq!(s.len(), 10);
    }

    #[test]
    fn zeroize_clears() {
        let mut s = SecretBytes::from_slice(&[9u8; 20]);
        s.zeroize();
        assert_eq!(s.as_slice(), &[0u8; 20]);
    }

    #[test]
    fn large_secrets_get_their_own_mapping() {
        for len in [arena::page_size() + 1, 10_000, 1 << 20] {
            let mut s = SecretBytes::zeroed(len);
            assert!(matches!(s.alloc, Alloc::Mapped(_)));
            assert!(s.as_slice().iter().all(|&b| b == 0));
            s.as_mut_slice().fill(0x5A);
            let c = SecretBytes::from_slice(s.as_slice());
            assert_eq!(c.as_slice(), s.as_slice());
        }
        let rsa_der = SecretBytes::zeroed(2400);
        assert!(matches!(rsa_der.alloc, Alloc::Slot { cap: 4096, .. }));
    }

    /// Many live buffers of mixed sizes, from several threads, each filled
    /// with its own pattern: no buffer may see another's bytes.
    #[test]
    fn many_threads_mixed_sizes() {
        let sizes = Arc::new([1usize, 16, 24, 32, 48, 65, 128, 300, 1024, 2500, 4096, 5000]);
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                let sizes = Arc::clone(&sizes);
                std::thread::spawn(move || {
                    let mut live: Vec<(SecretBytes, u8)> = Vec::new();
                    let mut seed = 0x9E37_79B9_u32.wrapping_mul(u32::from(t) + 1);
                    for i in 0..3000u32 {
                        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        if !live.is_empty() && (seed >> 29) < 3 {
                            let (s, b) = live.swap_remove((seed as usize >> 7) % live.len());
                            assert!(s.as_slice().iter().all(|&x| x == b), "corrupted");
                        } else {
                            let len = sizes[(seed as usize >> 3) % sizes.len()];
                            let mut s = SecretBytes::zeroed(len);
                            assert!(s.as_slice().iter().all(|&x| x == 0), "not zeroed");
                            let b = (i as u8) | 1;
                            s.as_mut_slice().fill(b);
                            live.push((s, b));
                        }
                    }
                    for (s, b) in &live {
                        assert!(s.as_slice().iter().all(|x| x == b), "corrupted");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("worker thread");
        }
    }

    #[test]
    fn scratch_slice() {
        let mut s = ScratchSlice::<argon2::Block>::new(300).expect("scratch");
        assert_eq!(s.as_mut_slice().len(), 300);
        assert!(s.as_mut_slice()[299].as_ref().iter().all(|&w| w == 0));
        let mut s = ScratchSlice::<u64>::new(1000).expect("scratch");
        s.as_mut_slice().fill(u64::MAX);
        assert!(ScratchSlice::<u8>::new(usize::MAX).is_err());
    }

    #[test]
    fn lock_status_reports() {
        // Whether it holds depends on RLIMIT_MEMLOCK; it must not fail.
        let locked = crate::secure::lock_status();
        eprintln!("secret pages locked: {locked}");
    }
}
