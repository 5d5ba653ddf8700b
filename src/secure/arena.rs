//! The secure allocator behind [`SecretBytes`](super::SecretBytes).
//!
//! Secret memory comes from anonymous mappings that are
//!
//! - locked (`mlock`) so they are never written to swap,
//! - excluded from core dumps (`MADV_DONTDUMP`),
//! - wiped in a forked child (`MADV_WIPEONFORK`, Linux ≥ 4.14), so a child
//!   never holds its parent's secrets,
//! - fenced by a `PROT_NONE` guard page on each side,
//! - zeroized before they are handed back.
//!
//! Mapping (and locking) a page per secret would waste the small
//! RLIMIT_MEMLOCK budget and cost two system calls per key use, so small
//! secrets share pages: a [`Chunk`] is [`CHUNK_PAGES`] locked pages; each page,
//! when first needed, is given to one power-of-two size class (16 bytes up to
//! the page size) and cut into equal slots. A slot is zeroized when it is
//! freed, so every free slot is all zeros. A page whose last slot is freed
//! goes back to its chunk; a chunk whose last page comes back is unmapped
//! unless it is the only free chunk. Secrets larger than a page get a
//! dedicated [`Mapping`] of their own, which never touches the arena's lock.
//!
//! The bookkeeping (free lists, page classes) lives in ordinary memory, never
//! in the secret pages: it holds no secret, and `MADV_WIPEONFORK` would
//! otherwise wipe it in a child.
//!
//! When `mlock` fails (RLIMIT_MEMLOCK too low, or no permission) the memory
//! is still excluded from dumps and zeroized; the failure is logged once and
//! reported by [`lock_status`].

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use std::cell::RefCell;
use std::sync::{Mutex, MutexGuard};

use crate::error::{Result, Rv};
use crate::secure::fork;

/// Pages per chunk of the small-secret arena.
pub(super) const CHUNK_PAGES: usize = 16;

/// The smallest slot, as a power of two (16 bytes).
const MIN_CLASS_SHIFT: u32 = 4;

/// Set once any secret mapping could not be locked.
static MLOCK_FAILED: AtomicBool = AtomicBool::new(false);

/// The process-wide arena (created on first use).
///
/// A std (futex) mutex, not parking_lot's: a forked child must be able to
/// release the lock the fork handler took even when other parent threads
/// were waiting for it. parking_lot's unlock may hand the lock over to one
/// of those waiters, which do not exist in the child (its next lock then
/// waits forever); a futex mutex's state is its one word.
static ARENA: Mutex<Option<Arena>> = Mutex::new(None);

thread_local! {
    /// The arena guard held across a fork by the forking thread.
    static HELD_OVER_FORK: RefCell<Option<MutexGuard<'static, Option<Arena>>>> =
        const { RefCell::new(None) };
}

/// The arena, locked. A panic while it was held cannot leave it half
/// updated in a way that matters here (its lists stay consistent between
/// calls), so a poisoned lock is taken over.
fn lock_arena() -> MutexGuard<'static, Option<Arena>> {
    ARENA
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether every secret mapping made so far is locked in RAM.
///
/// Before the first secret is allocated this maps the arena's first chunk,
/// so the answer reflects this process's RLIMIT_MEMLOCK from the start.
pub fn lock_status() -> bool {
    {
        let mut guard = lock_arena();
        let arena = arena_mut(&mut guard);
        if arena.chunks.iter().all(|c| c.map.is_none()) {
            // A probe: map (and try to lock) one chunk, then give the page
            // back. The chunk stays mapped: it is the arena's only free one.
            if let Ok(slot) = arena.alloc(1) {
                arena.free(slot.page, slot.slot);
            }
        }
    }
    !MLOCK_FAILED.load(Ordering::Relaxed)
}

/// A slot handed out by the global arena.
pub(super) struct Slot {
    /// Start of the slot (zero-filled).
    pub ptr: NonNull<u8>,
    /// The slot's size (its size class), at least the requested length.
    pub cap: usize,
    /// Global page index, for [`free_global`].
    pub page: u32,
    /// Slot index within the page.
    pub slot: u16,
}

/// Allocate a zero-filled slot of at least `len` bytes (1 ≤ len ≤
/// [`max_slab_len`]) from the global arena.
///
/// # Errors
/// CKR_HOST_MEMORY when no memory can be mapped.
pub(super) fn alloc_global(len: usize) -> Result<Slot> {
    let mut guard = lock_arena();
    arena_mut(&mut guard).alloc(len)
}

/// Return a slot to the global arena. The caller has already zeroized it.
pub(super) fn free_global(page: u32, slot: u16) {
    let mut guard = lock_arena();
    if let Some(arena) = guard.as_mut() {
        arena.free(page, slot);
    }
}

/// The largest secret the arena serves from shared pages; larger ones get a
/// dedicated [`Mapping`].
pub(super) fn max_slab_len() -> usize {
    page_size()
}

/// The system page size.
pub(super) fn page_size() -> usize {
    static PAGE: once_cell::sync::OnceCell<usize> = once_cell::sync::OnceCell::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no memory-safety preconditions.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(n)
            .ok()
            .filter(|n| n.is_power_of_two() && *n >= 4096)
            .unwrap_or(4096)
    })
}

/// Take the arena lock before a fork (see [`fork`]): the child must not
/// inherit it held by a thread that does not exist there.
pub(super) fn fork_prepare() {
    let guard = lock_arena();
    HELD_OVER_FORK.with(|held| *held.borrow_mut() = Some(guard));
}

/// Release the lock taken by [`fork_prepare`], in the parent and the child.
pub(super) fn fork_release() {
    // The forking thread (the child's only thread) drops the guard it kept.
    HELD_OVER_FORK.with(|held| drop(held.borrow_mut().take()));
}

fn arena_mut(guard: &mut Option<Arena>) -> &mut Arena {
    guard.get_or_insert_with(|| {
        fork::install_handlers();
        Arena::new(page_size())
    })
}

// ---------------------------------------------------------------------------
// Mappings

/// An anonymous mapping for secrets: guard pages on both sides, excluded from
/// dumps, wiped in a forked child, locked if possible, zeroized and unmapped
/// on drop.
pub(super) struct Mapping {
    /// Start of the whole mapping, the leading guard page included.
    base: NonNull<u8>,
    /// Length of the whole mapping.
    total: usize,
    /// Length of the usable part (a multiple of the page size).
    len: usize,
    /// Whether `mlock` succeeded on the usable part.
    locked: bool,
}

// SAFETY: a Mapping exclusively owns its address range; nothing in it is
// tied to the thread that created it.
unsafe impl Send for Mapping {}
// SAFETY: shared access only reads the mapping's address and length.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Map at least `len` bytes (rounded up to whole pages), zero-filled.
    /// `lock` asks for `mlock`; a failure to lock is logged once and
    /// recorded for [`lock_status`], and the mapping is still returned.
    ///
    /// # Errors
    /// CKR_HOST_MEMORY when the mapping cannot be made.
    pub(super) fn new(len: usize, lock: bool) -> Result<Mapping> {
        let page = page_size();
        let len = len
            .max(1)
            .checked_next_multiple_of(page)
            .ok_or(Rv::HOST_MEMORY)?;
        let total = len.checked_add(2 * page).ok_or(Rv::HOST_MEMORY)?;
        // SAFETY: a fresh private anonymous mapping at an address the kernel
        // chooses; it aliases nothing.
        let raw = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            log::error!(
                "secure memory: mmap of {total} bytes failed: {}",
                std::io::Error::last_os_error()
            );
            return Err(Rv::HOST_MEMORY);
        }
        let base = NonNull::new(raw.cast::<u8>()).ok_or(Rv::HOST_MEMORY)?;
        let mut map = Mapping {
            base,
            total,
            len,
            locked: false,
        };
        map.protect(page);
        if lock {
            map.lock();
        }
        Ok(map)
    }

    /// The start of the usable part.
    pub(super) fn ptr(&self) -> NonNull<u8> {
        // SAFETY: the usable part starts one guard page into the mapping,
        // which is `total = len + 2 pages` long.
        unsafe { self.base.add(page_size()) }
    }

    /// The length of the usable part.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Guard pages, dump exclusion, wipe-on-fork. Failures here weaken
    /// hardening but not correctness, so they are logged, not returned.
    fn protect(&mut self, page: usize) {
        let usable = self.ptr().as_ptr().cast::<libc::c_void>();
        // SAFETY: both ranges are whole pages inside this mapping; the guard
        // pages are never handed out.
        let guards_ok = unsafe {
            libc::mprotect(self.base.as_ptr().cast(), page, libc::PROT_NONE) == 0
                && libc::mprotect(
                    self.base.as_ptr().add(page + self.len).cast(),
                    page,
                    libc::PROT_NONE,
                ) == 0
        };
        if !guards_ok {
            warn_once(&GUARD_WARNED, "guard pages could not be set");
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // SAFETY: madvise on the usable range of this mapping only
            // changes how the kernel treats it (dumps, fork).
            let dontdump = unsafe { libc::madvise(usable, self.len, libc::MADV_DONTDUMP) };
            if dontdump != 0 {
                warn_once(
                    &DUMP_WARNED,
                    "MADV_DONTDUMP failed: secrets may appear in core dumps",
                );
            }
            // SAFETY: as above. EINVAL on kernels before 4.14 is expected;
            // a child then holds copies until the fork handler regenerates
            // the master key (see `fork`).
            let wipe = unsafe { libc::madvise(usable, self.len, libc::MADV_WIPEONFORK) };
            if wipe != 0 {
                static WIPE_NOTED: Once = Once::new();
                WIPE_NOTED.call_once(|| {
                    log::debug!("secure memory: MADV_WIPEONFORK not supported by this kernel");
                });
            }
        }
        #[cfg(target_os = "freebsd")]
        {
            // SAFETY: as above; MADV_NOCORE is FreeBSD's dump exclusion.
            let nocore = unsafe { libc::madvise(usable, self.len, libc::MADV_NOCORE) };
            if nocore != 0 {
                warn_once(
                    &DUMP_WARNED,
                    "MADV_NOCORE failed: secrets may appear in core dumps",
                );
            }
        }
        let _ = usable;
    }

    /// Try to lock the usable part; log the first failure in the process.
    fn lock(&mut self) {
        // SAFETY: mlock on the usable range of this live mapping.
        let rc = unsafe { libc::mlock(self.ptr().as_ptr().cast(), self.len) };
        self.locked = rc == 0;
        if !self.locked {
            note_lock_failure(&std::io::Error::last_os_error());
        }
    }

    /// Lock again after a fork: locks are not inherited by a child.
    fn relock(&mut self) {
        if self.locked {
            self.lock();
        }
    }

    /// Zeroize the usable part (at memset speed: a KDF's scratch can be
    /// 64 MiB).
    fn wipe(&mut self) {
        // SAFETY: the usable part is readable and writable, `len` bytes
        // long, and owned by this mapping; no other reference into it
        // outlives the owner that is dropping it.
        let slice = unsafe { std::slice::from_raw_parts_mut(self.ptr().as_ptr(), self.len) };
        super::memory::wipe(slice);
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        self.wipe();
        // SAFETY: unlocking and unmapping exactly the range this Mapping
        // mapped; every pointer into it belonged to its (now gone) owner.
        unsafe {
            if self.locked {
                libc::munlock(self.ptr().as_ptr().cast(), self.len);
            }
            libc::munmap(self.base.as_ptr().cast(), self.total);
        }
    }
}

static GUARD_WARNED: Once = Once::new();
static DUMP_WARNED: Once = Once::new();

fn warn_once(once: &Once, what: &str) {
    once.call_once(|| {
        log::warn!(
            "secure memory: {what} ({})",
            std::io::Error::last_os_error()
        );
    });
}

fn note_lock_failure(err: &std::io::Error) {
    static LOCK_WARNED: Once = Once::new();
    MLOCK_FAILED.store(true, Ordering::Relaxed);
    LOCK_WARNED.call_once(|| {
        log::warn!(
            "secure memory: mlock failed ({err}); key material may be swapped to disk. \
             It is still excluded from core dumps and wiped after use. Raise the \
             locked-memory limit (ulimit -l, LimitMEMLOCK= for systemd units) to fix this."
        );
    });
}

// ---------------------------------------------------------------------------
// The small-secret arena

/// `CHUNK_PAGES` locked pages; `None` once released (the index is reused).
struct Chunk {
    map: Option<Mapping>,
    /// Pages of this chunk not given to any size class.
    free_pages: Vec<u16>,
}

/// Bookkeeping for one page of a chunk.
#[derive(Default)]
struct Page {
    /// Size class index, or `None` while the page is unassigned.
    class: Option<u8>,
    /// Free slot indices (all zero-filled).
    free: Vec<u16>,
    /// Slots in use.
    used: u16,
}

/// The arena: chunks, per-page bookkeeping, and per-class lists of pages
/// with a free slot.
pub(super) struct Arena {
    page: usize,
    chunks: Vec<Chunk>,
    /// `pages[chunk * CHUNK_PAGES + i]` describes page `i` of `chunk`.
    pages: Vec<Page>,
    /// For each size class, the pages assigned to it with a free slot.
    partial: Vec<Vec<u32>>,
    /// The fork generation the locks were taken in.
    fork_gen: u64,
}

impl Arena {
    /// An empty arena for `page`-byte pages; maps nothing yet.
    pub(super) fn new(page: usize) -> Arena {
        let classes = (page.trailing_zeros() - MIN_CLASS_SHIFT + 1) as usize;
        Arena {
            page,
            chunks: Vec::new(),
            pages: Vec::new(),
            partial: vec![Vec::new(); classes],
            fork_gen: fork::generation(),
        }
    }

    /// A zero-filled slot of at least `len` bytes, 1 ≤ len ≤ page size.
    ///
    /// # Errors
    /// CKR_HOST_MEMORY when a new chunk is needed and cannot be mapped;
    /// CKR_GENERAL_ERROR for a length out of range (a caller bug).
    pub(super) fn alloc(&mut self, len: usize) -> Result<Slot> {
        if len == 0 || len > self.page {
            return Err(Rv::GENERAL_ERROR);
        }
        self.check_fork();
        let class = class_of(len);
        let page = match self.partial[class].last() {
            Some(&page) => page,
            None => {
                let page = self.take_page()?;
                let slots = self.page >> (class as u32 + MIN_CLASS_SHIFT);
                let p = &mut self.pages[page as usize];
                p.class = Some(class as u8);
                // Reversed, so slots are handed out from the page's start.
                p.free = (0..slots as u16).rev().collect();
                p.used = 0;
                self.partial[class].push(page);
                page
            }
        };
        let p = &mut self.pages[page as usize];
        let slot = p.free.pop().ok_or(Rv::GENERAL_ERROR)?; // a partial page always has a free slot
        p.used += 1;
        if p.free.is_empty() {
            self.partial[class].pop();
        }
        let cap = 1usize << (class as u32 + MIN_CLASS_SHIFT);
        let ptr = self.slot_ptr(page, slot, cap)?;
        Ok(Slot {
            ptr,
            cap,
            page,
            slot,
        })
    }

    /// Return a (zeroized) slot.
    pub(super) fn free(&mut self, page: u32, slot: u16) {
        let Some(p) = self.pages.get_mut(page as usize) else {
            return;
        };
        let Some(class) = p.class.map(usize::from) else {
            return;
        };
        let was_full = p.free.is_empty();
        p.free.push(slot);
        p.used -= 1;
        if p.used > 0 {
            if was_full {
                self.partial[class].push(page);
            }
            return;
        }
        // The page is empty: give it back to its chunk.
        if !was_full {
            self.partial[class].retain(|&q| q != page);
        }
        *p = Page::default();
        let chunk = page as usize / CHUNK_PAGES;
        self.chunks[chunk]
            .free_pages
            .push((page as usize % CHUNK_PAGES) as u16);
        if self.chunks[chunk].free_pages.len() == CHUNK_PAGES {
            self.maybe_release(chunk);
        }
    }

    /// An unassigned page, mapping a new chunk if none is left.
    fn take_page(&mut self) -> Result<u32> {
        let chunk = match self
            .chunks
            .iter()
            .position(|c| c.map.is_some() && !c.free_pages.is_empty())
        {
            Some(i) => i,
            None => self.map_chunk()?,
        };
        let c = &mut self.chunks[chunk];
        let i = c.free_pages.pop().ok_or(Rv::GENERAL_ERROR)?; // chosen non-empty
        Ok((chunk * CHUNK_PAGES + usize::from(i)) as u32)
    }

    /// Map a chunk into a released chunk's place or a new one.
    fn map_chunk(&mut self) -> Result<usize> {
        let map = Mapping::new(CHUNK_PAGES * self.page, true)?;
        // Reversed, so pages are handed out from the chunk's start.
        let fresh = Chunk {
            map: Some(map),
            free_pages: (0..CHUNK_PAGES as u16).rev().collect(),
        };
        match self.chunks.iter().position(|c| c.map.is_none()) {
            Some(i) => {
                self.chunks[i] = fresh;
                Ok(i)
            }
            None => {
                self.chunks.push(fresh);
                self.pages
                    .resize_with(self.chunks.len() * CHUNK_PAGES, Page::default);
                Ok(self.chunks.len() - 1)
            }
        }
    }

    /// Unmap a chunk that just became empty, unless it is the only empty
    /// one (kept so a steady alloc/free pattern does not map and unmap).
    fn maybe_release(&mut self, chunk: usize) {
        let other_empty = self
            .chunks
            .iter()
            .enumerate()
            .any(|(i, c)| i != chunk && c.map.is_some() && c.free_pages.len() == CHUNK_PAGES);
        if other_empty {
            let c = &mut self.chunks[chunk];
            c.map = None; // zeroized and unmapped by Mapping's Drop
            c.free_pages.clear();
        }
    }

    fn slot_ptr(&self, page: u32, slot: u16, cap: usize) -> Result<NonNull<u8>> {
        let chunk = page as usize / CHUNK_PAGES;
        let map = self.chunks[chunk].map.as_ref().ok_or(Rv::GENERAL_ERROR)?;
        let offset = (page as usize % CHUNK_PAGES) * self.page + usize::from(slot) * cap;
        debug_assert!(offset + cap <= map.len());
        // SAFETY: offset + cap ≤ CHUNK_PAGES pages = the mapping's usable
        // length, so the result stays inside the mapping.
        Ok(unsafe { map.ptr().add(offset) })
    }

    /// After a fork the child's pages are unlocked (locks are not inherited)
    /// and, with MADV_WIPEONFORK, zero: lock them again.
    fn check_fork(&mut self) {
        let gen = fork::generation();
        if gen != self.fork_gen {
            self.fork_gen = gen;
            for map in self.chunks.iter_mut().filter_map(|c| c.map.as_mut()) {
                map.relock();
            }
        }
    }

    /// The usable ranges of mapped chunks (for tests that look at memory).
    #[cfg(test)]
    pub(super) fn mapped_ranges(&self) -> Vec<std::ops::Range<usize>> {
        self.chunks
            .iter()
            .filter_map(|c| c.map.as_ref())
            .map(|m| {
                let start = m.ptr().as_ptr() as usize;
                start..start + m.len()
            })
            .collect()
    }

    /// Mapped chunks (for tests).
    #[cfg(test)]
    fn mapped_chunks(&self) -> usize {
        self.chunks.iter().filter(|c| c.map.is_some()).count()
    }
}

/// Run `f` with the global arena's mapped ranges while holding its lock, so
/// no chunk is mapped, released or handed out meanwhile (for tests that look
/// at memory).
#[cfg(test)]
pub(super) fn with_global_ranges<R>(f: impl FnOnce(&[std::ops::Range<usize>]) -> R) -> R {
    let guard = lock_arena();
    let ranges = guard.as_ref().map(Arena::mapped_ranges).unwrap_or_default();
    f(&ranges)
}

/// The size class serving `len` bytes (1 ≤ len).
fn class_of(len: usize) -> usize {
    let bits = usize::BITS - (len - 1).leading_zeros();
    bits.saturating_sub(MIN_CLASS_SHIFT) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroize;

    fn fill(slot: &Slot, len: usize, byte: u8) {
        // SAFETY: the slot is live and at least `len` ≤ cap bytes long.
        unsafe { std::ptr::write_bytes(slot.ptr.as_ptr(), byte, len) };
    }

    fn bytes(ptr: NonNull<u8>, len: usize) -> Vec<u8> {
        // SAFETY: callers pass a range inside a mapping that is still mapped.
        unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }.to_vec()
    }

    #[test]
    fn size_classes() {
        assert_eq!(class_of(1), 0);
        assert_eq!(class_of(16), 0);
        assert_eq!(class_of(17), 1);
        assert_eq!(class_of(32), 1);
        assert_eq!(class_of(33), 2);
        assert_eq!(class_of(4096), 8);
        let arena = Arena::new(4096);
        assert_eq!(arena.partial.len(), 9);
    }

    #[test]
    fn freed_slot_is_zero_and_reused() {
        let mut arena = Arena::new(page_size());
        let keep = arena.alloc(64).expect("map a chunk");
        let a = arena.alloc(40).expect("alloc");
        assert_eq!(a.cap, 64);
        assert!(bytes(a.ptr, a.cap).iter().all(|&b| b == 0));
        fill(&a, 40, 0xA7);
        // What SecretBytes' Drop does: zeroize, then free.
        // SAFETY: the slot is live and cap bytes long.
        unsafe { std::slice::from_raw_parts_mut(a.ptr.as_ptr(), a.cap) }.zeroize();
        let (ptr, cap) = (a.ptr, a.cap);
        arena.free(a.page, a.slot);
        // The chunk is still mapped (`keep` lives in it): read the freed slot.
        assert!(bytes(ptr, cap).iter().all(|&b| b == 0));
        let b = arena.alloc(33).expect("alloc");
        assert_eq!(b.ptr, ptr, "the freed slot is reused first");
        arena.free(b.page, b.slot);
        arena.free(keep.page, keep.slot);
    }

    #[test]
    fn slots_do_not_overlap_and_pages_recycle() {
        let mut arena = Arena::new(page_size());
        let sizes = [1usize, 15, 16, 17, 31, 64, 100, 255, 600, 1500, 2500, 4096];
        let mut live: Vec<(Slot, usize, u8)> = Vec::new();
        let mut seed = 0x1234_5678_u32;
        for round in 0..4000u32 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let free_it = !live.is_empty() && (seed >> 28) < 7;
            if free_it {
                let (slot, len, byte) = live.swap_remove((seed as usize >> 8) % live.len());
                assert!(bytes(slot.ptr, len).iter().all(|&b| b == byte), "corrupted");
                // SAFETY: the slot is live and cap bytes long.
                unsafe { std::slice::from_raw_parts_mut(slot.ptr.as_ptr(), slot.cap) }.zeroize();
                arena.free(slot.page, slot.slot);
            } else {
                let len = sizes[(seed as usize >> 4) % sizes.len()];
                let slot = arena.alloc(len).expect("alloc");
                assert!(slot.cap >= len);
                assert!(
                    bytes(slot.ptr, len).iter().all(|&b| b == 0),
                    "slot not zero"
                );
                let byte = (round % 251) as u8 + 1;
                fill(&slot, len, byte);
                live.push((slot, len, byte));
            }
        }
        for (slot, len, byte) in live.drain(..) {
            assert!(bytes(slot.ptr, len).iter().all(|&b| b == byte), "corrupted");
            arena.free(slot.page, slot.slot);
        }
        assert!(arena.partial.iter().all(Vec::is_empty));
        assert!(arena.pages.iter().all(|p| p.class.is_none()));
        assert!(arena.mapped_chunks() <= 1, "empty chunks are released");
    }

    #[test]
    fn chunks_grow_and_shrink() {
        let mut arena = Arena::new(page_size());
        let page = page_size();
        // Whole-page slots: three chunks' worth.
        let slots: Vec<Slot> = (0..3 * CHUNK_PAGES)
            .map(|_| arena.alloc(page).expect("alloc"))
            .collect();
        assert_eq!(arena.mapped_chunks(), 3);
        for s in &slots {
            arena.free(s.page, s.slot);
        }
        assert_eq!(arena.mapped_chunks(), 1);
        // A released chunk's index is reused.
        let again: Vec<Slot> = (0..2 * CHUNK_PAGES)
            .map(|_| arena.alloc(page).expect("alloc"))
            .collect();
        assert_eq!(arena.chunks.len(), 3);
        for s in &again {
            arena.free(s.page, s.slot);
        }
    }

    #[test]
    fn bad_lengths_are_refused() {
        let mut arena = Arena::new(page_size());
        assert!(arena.alloc(0).is_err());
        assert!(arena.alloc(page_size() + 1).is_err());
    }

    /// The kernel's own view of a secret mapping: VmFlags in smaps show
    /// `dd` (no dump), `lo` (locked) when mlock succeeded, and `wf` (wipe on
    /// fork) where the kernel supports it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn kernel_sees_the_protection() {
        let map = Mapping::new(2 * page_size(), true).expect("map");
        let start = format!("{:x}-", map.ptr().as_ptr() as usize);
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
        // VmFlags is the last line of each entry: the first one after the
        // mapping's header line is the mapping's.
        let flags = smaps
            .lines()
            .skip_while(|l| !l.starts_with(&start))
            .find_map(|l| l.strip_prefix("VmFlags:"))
            .expect("VmFlags for the mapping");
        let flags: Vec<&str> = flags.split_whitespace().collect();
        eprintln!("secret mapping VmFlags: {flags:?}");
        assert!(flags.contains(&"dd"), "not excluded from dumps");
        assert_eq!(flags.contains(&"lo"), map.locked);
    }

    /// Without the right to lock memory (RLIMIT_MEMLOCK 0, no CAP_IPC_LOCK)
    /// secret memory still works, unlocked, and `lock_status` says so. Runs
    /// in a forked child so the test process keeps its limits.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn works_when_mlock_is_refused() {
        // SAFETY: the child runs only the closure below and leaves by _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = std::panic::catch_unwind(|| {
                drop_lock_rights();
                let mut code = 0;
                let map = Mapping::new(3 * page_size(), true).expect("map");
                if map.locked {
                    code |= 1;
                }
                let mut s = crate::secure::SecretBytes::zeroed(5 * page_size());
                s.as_mut_slice().fill(1);
                let small = crate::secure::SecretBytes::from_slice(b"still works");
                if small.as_slice() != b"still works" {
                    code |= 2;
                }
                if crate::secure::lock_status() {
                    code |= 4;
                }
                code
            })
            .unwrap_or(8);
            // SAFETY: leaving the forked child without returning to the
            // test harness.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waiting for the child just forked.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status));
        assert_eq!(libc::WEXITSTATUS(status), 0, "child checks failed");
    }

    /// Set RLIMIT_MEMLOCK to 0 and drop all capabilities (CAP_IPC_LOCK
    /// would let root lock regardless).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn drop_lock_rights() {
        #[repr(C)]
        struct CapHeader {
            version: u32,
            pid: i32,
        }
        #[repr(C)]
        #[derive(Clone, Copy)]
        struct CapData {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        let mut header = CapHeader {
            version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
            pid: 0,
        };
        let data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        // SAFETY: setrlimit reads a valid rlimit; capset reads a valid
        // header and two data structs, as the v3 ABI requires.
        unsafe {
            libc::setrlimit(libc::RLIMIT_MEMLOCK, &zero);
            libc::syscall(libc::SYS_capset, &mut header, data.as_ptr());
        }
    }

    #[test]
    fn mapping_is_zeroed_and_sized() {
        let map = Mapping::new(5000, false).expect("map");
        assert_eq!(map.len() % page_size(), 0);
        assert!(map.len() >= 5000);
        assert!(bytes(map.ptr(), map.len()).iter().all(|&b| b == 0));
    }
}
