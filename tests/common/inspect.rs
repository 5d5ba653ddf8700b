//! Looking for secrets where they must not be: in another process's memory
//! (`/proc/PID/smaps` for the mappings and their kernel flags,
//! `/proc/PID/mem` for the bytes), in core files, and in token files.
//!
//! A secret is searched for whole and in 16-byte pieces, so a partial copy
//! (the tail of a key, a key split over two buffers) counts too. Candidate
//! positions are filtered on their first two bytes through a table, so tens
//! of megabytes are scanned in well under a second.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The length of the pieces a secret is also searched for in.
pub const PIECE: usize = 16;

/// A named secret to look for.
#[derive(Clone, Debug)]
pub struct Needle {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Needle {
    pub fn new(name: impl Into<String>, bytes: &[u8]) -> Needle {
        Needle {
            name: name.into(),
            bytes: bytes.to_vec(),
        }
    }
}

/// How often one needle was found: whole copies, and 16-byte pieces of it
/// (a whole copy also counts each of its pieces).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hits {
    pub whole: usize,
    pub pieces: usize,
}

impl Hits {
    /// Nothing of the needle was found.
    pub fn none(&self) -> bool {
        self.whole == 0 && self.pieces == 0
    }
}

/// Many needles searched for in one pass over a haystack.
pub struct Searcher {
    needles: Vec<Needle>,
    /// (needle index, whole?, bytes)
    patterns: Vec<(usize, bool, Vec<u8>)>,
    /// Pattern indices by their first two bytes.
    by_prefix: Vec<Vec<u32>>,
}

impl Searcher {
    /// A searcher for `needles`; each must be at least 2 bytes long.
    pub fn new(needles: &[Needle]) -> Searcher {
        let mut patterns = Vec::new();
        for (i, n) in needles.iter().enumerate() {
            assert!(n.bytes.len() >= 2, "needle {} too short", n.name);
            patterns.push((i, true, n.bytes.clone()));
            if n.bytes.len() > PIECE {
                let mut at = 0;
                while at + PIECE <= n.bytes.len() {
                    patterns.push((i, false, n.bytes[at..at + PIECE].to_vec()));
                    at += PIECE;
                }
                if n.bytes.len() % PIECE != 0 {
                    let tail = &n.bytes[n.bytes.len() - PIECE..];
                    patterns.push((i, false, tail.to_vec()));
                }
            }
        }
        let mut by_prefix = vec![Vec::new(); 1 << 16];
        for (p, (_, _, bytes)) in patterns.iter().enumerate() {
            by_prefix[prefix(bytes, 0)].push(p as u32);
        }
        Searcher {
            needles: needles.to_vec(),
            patterns,
            by_prefix,
        }
    }

    /// The needles, in the order of the hits [`Searcher::search`] returns.
    pub fn needles(&self) -> &[Needle] {
        &self.needles
    }

    /// Count each needle in `hay`.
    pub fn search(&self, hay: &[u8]) -> Vec<Hits> {
        let mut hits = vec![Hits::default(); self.needles.len()];
        self.search_into(hay, &mut hits);
        hits
    }

    /// Add the counts of each needle in `hay` to `hits`.
    pub fn search_into(&self, hay: &[u8], hits: &mut [Hits]) {
        if hay.len() < 2 {
            return;
        }
        for i in 0..hay.len() - 1 {
            let bucket = &self.by_prefix[prefix(hay, i)];
            if bucket.is_empty() {
                continue;
            }
            for &p in bucket {
                let (needle, whole, bytes) = &self.patterns[p as usize];
                if hay[i..].starts_with(bytes) {
                    if *whole {
                        hits[*needle].whole += 1;
                    } else {
                        hits[*needle].pieces += 1;
                    }
                }
            }
        }
    }

    /// The names of the needles with any hit, with their counts.
    pub fn found(&self, hits: &[Hits]) -> Vec<String> {
        self.needles
            .iter()
            .zip(hits)
            .filter(|(_, h)| !h.none())
            .map(|(n, h)| format!("{} ({} whole, {} pieces)", n.name, h.whole, h.pieces))
            .collect()
    }

    /// One line per needle: name, whole copies, pieces.
    pub fn table(&self, title: &str, hits: &[Hits]) -> String {
        let mut out = format!("{title}\n");
        for (n, h) in self.needles.iter().zip(hits) {
            out.push_str(&format!(
                "    {:<40} {:>3} whole copies, {:>3} 16-byte pieces\n",
                n.name, h.whole, h.pieces
            ));
        }
        out
    }
}

fn prefix(bytes: &[u8], at: usize) -> usize {
    usize::from(bytes[at]) | usize::from(bytes[at + 1]) << 8
}

/// Add `more` into `total`, needle by needle.
pub fn add(total: &mut [Hits], more: &[Hits]) {
    for (t, m) in total.iter_mut().zip(more) {
        t.whole += m.whole;
        t.pieces += m.pieces;
    }
}

// ---------------------------------------------------------------------------
// Another process's memory

/// One mapping of a process, as `/proc/PID/smaps` shows it.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub perms: String,
    pub name: String,
    /// The kernel's VmFlags: `dd` excluded from core dumps, `lo` locked,
    /// `wf` wiped on fork ...
    pub flags: Vec<String>,
}

impl Mapping {
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// Excluded from core dumps (MADV_DONTDUMP): ProzHSM's secret memory.
    pub fn dont_dump(&self) -> bool {
        self.has("dd")
    }

    pub fn len(&self) -> u64 {
        self.end - self.start
    }
}

/// The mappings of process `pid`.
pub fn mappings(pid: u32) -> Vec<Mapping> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).expect("read smaps");
    let mut out: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            if let Some(m) = out.last_mut() {
                m.flags = flags.split_whitespace().map(str::to_string).collect();
            }
            continue;
        }
        let mut fields = line.split_whitespace();
        let Some(range) = fields.next() else { continue };
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        else {
            continue;
        };
        let perms = fields.next().unwrap_or("").to_string();
        let name = fields.nth(3).unwrap_or("").to_string();
        out.push(Mapping {
            start,
            end,
            perms,
            name,
            flags: Vec::new(),
        });
    }
    out
}

/// A copy of every readable mapping of a process.
pub struct Snapshot {
    pub regions: Vec<(Mapping, Vec<u8>)>,
}

impl Snapshot {
    /// Read the memory of `pid` (which must be stopped or idle for the copy
    /// to be consistent). Mappings that cannot be read (`[vvar]`, guard
    /// pages) are skipped.
    pub fn take(pid: u32) -> Snapshot {
        let mem = std::fs::File::open(format!("/proc/{pid}/mem")).expect("open /proc/PID/mem");
        let mut regions = Vec::new();
        for m in mappings(pid) {
            if !m.perms.starts_with('r') || m.name.starts_with("[vvar") || m.name == "[vsyscall]" {
                continue;
            }
            let mut bytes = vec![0u8; m.len() as usize];
            let mut done = 0;
            while done < bytes.len() {
                match mem.read_at(&mut bytes[done..], m.start + done as u64) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => done += n,
                }
            }
            bytes.truncate(done);
            regions.push((m, bytes));
        }
        Snapshot { regions }
    }

    /// Total bytes read.
    pub fn size(&self) -> usize {
        self.regions.iter().map(|(_, b)| b.len()).sum()
    }

    /// Count the needles in the mappings `filter` accepts.
    pub fn search(&self, searcher: &Searcher, filter: impl Fn(&Mapping) -> bool) -> Vec<Hits> {
        let mut hits = vec![Hits::default(); searcher.needles().len()];
        for (m, bytes) in &self.regions {
            if filter(m) {
                searcher.search_into(bytes, &mut hits);
            }
        }
        hits
    }

    /// Where each needle was found: (needle, mapping name and flags).
    pub fn locate(&self, searcher: &Searcher) -> Vec<String> {
        let mut out = Vec::new();
        for (m, bytes) in &self.regions {
            let hits = searcher.search(bytes);
            for (n, h) in searcher.needles().iter().zip(&hits) {
                if !h.none() {
                    out.push(format!(
                        "{} in {:x}-{:x} {} {:?} {:?} ({} whole, {} pieces)",
                        n.name, m.start, m.end, m.perms, m.name, m.flags, h.whole, h.pieces
                    ));
                }
            }
        }
        out
    }

    /// The random-looking 16-byte pieces of the dump-excluded mappings:
    /// what ProzHSM's secret memory holds right now (the master key, and
    /// any secret unsealed for an operation).
    pub fn secret_memory_pieces(&self) -> Vec<Needle> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (m, bytes) in &self.regions {
            if !m.dont_dump() {
                continue;
            }
            for (i, piece) in bytes.chunks_exact(PIECE).enumerate() {
                let distinct: std::collections::HashSet<u8> = piece.iter().copied().collect();
                if distinct.len() >= 10 && seen.insert(piece.to_vec()) {
                    out.push(Needle::new(
                        format!("secret memory {:x}+{:#x}", m.start, i * PIECE),
                        piece,
                    ));
                }
            }
        }
        out
    }

    /// The dump-excluded mappings: (count, locked, wiped on fork, bytes).
    pub fn secret_mappings(&self) -> (usize, usize, usize, u64) {
        let dd: Vec<&Mapping> = self
            .regions
            .iter()
            .map(|(m, _)| m)
            .filter(|m| m.dont_dump())
            .collect();
        (
            dd.len(),
            dd.iter().filter(|m| m.has("lo")).count(),
            dd.iter().filter(|m| m.has("wf")).count(),
            dd.iter().map(|m| m.len()).sum(),
        )
    }
}

// ---------------------------------------------------------------------------
// Files

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if p.is_file() {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Count the needles in `files`.
pub fn search_files(searcher: &Searcher, files: &[PathBuf]) -> Vec<Hits> {
    let mut hits = vec![Hits::default(); searcher.needles().len()];
    for f in files {
        if let Ok(bytes) = std::fs::read(f) {
            searcher.search_into(&bytes, &mut hits);
        }
    }
    hits
}

// ---------------------------------------------------------------------------
// Random test values

/// `n` bytes from the OS CSPRNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    use std::io::Read;
    let mut out = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut out))
        .expect("read /dev/urandom");
    out
}

/// A random alphanumeric string of `n` characters (PINs, labels).
pub fn random_text(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    random_bytes(n)
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

// ---------------------------------------------------------------------------
// Core files

/// A core file's parts: the process memory it holds (PT_LOAD segments) and
/// its notes (PT_NOTE: each thread's saved registers, general purpose and
/// floating point / vector, and the process's auxiliary data).
pub struct CoreParts<'a> {
    pub memory: Vec<&'a [u8]>,
    pub notes: Vec<&'a [u8]>,
}

/// Split a 64-bit little-endian ELF core into its parts.
pub fn core_parts(core: &[u8]) -> CoreParts<'_> {
    assert!(
        core.len() > 64 && &core[..4] == b"\x7fELF",
        "not an ELF file"
    );
    assert_eq!(core[4], 2, "not a 64-bit ELF");
    let u16_at = |at: usize| u16::from_le_bytes(core[at..at + 2].try_into().expect("2 bytes"));
    let u32_at = |at: usize| u32::from_le_bytes(core[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_le_bytes(core[at..at + 8].try_into().expect("8 bytes"));
    let phoff = u64_at(0x20) as usize;
    let (phentsize, phnum) = (usize::from(u16_at(0x36)), usize::from(u16_at(0x38)));
    let mut parts = CoreParts {
        memory: Vec::new(),
        notes: Vec::new(),
    };
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let (kind, offset, size) = (
            u32_at(ph),
            u64_at(ph + 8) as usize,
            u64_at(ph + 32) as usize,
        );
        let Some(bytes) = core.get(offset..offset + size) else {
            continue;
        };
        match kind {
            1 => parts.memory.push(bytes),
            4 => parts.notes.push(bytes),
            _ => {}
        }
    }
    parts
}

impl CoreParts<'_> {
    /// Count the needles in the memory segments.
    pub fn search_memory(&self, searcher: &Searcher) -> Vec<Hits> {
        let mut hits = vec![Hits::default(); searcher.needles().len()];
        for m in &self.memory {
            searcher.search_into(m, &mut hits);
        }
        hits
    }

    /// Count the needles in the notes (saved registers).
    pub fn search_notes(&self, searcher: &Searcher) -> Vec<Hits> {
        let mut hits = vec![Hits::default(); searcher.needles().len()];
        for n in &self.notes {
            searcher.search_into(n, &mut hits);
        }
        hits
    }

    /// Bytes of memory the core holds.
    pub fn memory_size(&self) -> usize {
        self.memory.iter().map(|m| m.len()).sum()
    }
}
