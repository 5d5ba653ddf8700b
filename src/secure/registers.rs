//! Clearing the CPU's vector registers after work on secrets.
//!
//! Crypto code leaves secret bytes in SIMD registers: aws-lc's SHA-512 over
//! an Ed25519 seed, AES round keys (the first two of AES-256 are the key
//! itself), Argon2's blocks. A register keeps them until other code
//! overwrites it, which for the registers only some code uses (xmm16–31,
//! the upper halves) may be never; and a core dump saves each thread's
//! registers in its notes, beside memory, dump-excluded or not. The key
//! protection tests found half an Ed25519 seed there.
//!
//! [`clear_registers`] zeroes them; the ABI layer calls it as every entry
//! point returns. Every vector register is caller-saved in the System V
//! x86-64 and AAPCS64 calling conventions, so a callee may clobber them all.
//! General-purpose registers are not cleared (they hold at most 8 bytes of
//! anything, and are overwritten constantly).

/// Zero the vector registers: xmm/ymm/zmm0–15 (`vzeroall`, or `xorps`
/// without AVX) and zmm16–31 with AVX-512 on x86-64; v0–v31 on AArch64.
/// Elsewhere it does nothing.
///
/// Never inlined: a call already tells the compiler that every vector
/// register may change, which covers the AVX-512 registers the `asm!`
/// cannot name as clobbered without the `avx512f` target feature.
#[inline(never)]
pub fn clear_registers() {
    imp::clear();
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::asm;

    pub(super) fn clear() {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked); zmm16–31 are caller-
            // saved and unused by this function's own code.
            unsafe { clear_zmm16_31() };
        }
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX (checked); vzeroall only writes the
            // vector registers declared clobbered.
            unsafe { vzeroall() };
        } else {
            xorps_all();
        }
    }

    /// # Safety
    /// The CPU must support AVX-512F.
    unsafe fn clear_zmm16_31() {
        // SAFETY: per the caller; EVEX-encoded register-only instructions.
        unsafe {
            asm!(
                "vpxord zmm16, zmm16, zmm16",
                "vpxord zmm17, zmm17, zmm17",
                "vpxord zmm18, zmm18, zmm18",
                "vpxord zmm19, zmm19, zmm19",
                "vpxord zmm20, zmm20, zmm20",
                "vpxord zmm21, zmm21, zmm21",
                "vpxord zmm22, zmm22, zmm22",
                "vpxord zmm23, zmm23, zmm23",
                "vpxord zmm24, zmm24, zmm24",
                "vpxord zmm25, zmm25, zmm25",
                "vpxord zmm26, zmm26, zmm26",
                "vpxord zmm27, zmm27, zmm27",
                "vpxord zmm28, zmm28, zmm28",
                "vpxord zmm29, zmm29, zmm29",
                "vpxord zmm30, zmm30, zmm30",
                "vpxord zmm31, zmm31, zmm31",
                options(nostack, nomem, preserves_flags)
            )
        }
    }

    /// # Safety
    /// The CPU must support AVX.
    unsafe fn vzeroall() {
        // SAFETY: per the caller; the registers it zeroes are declared.
        unsafe {
            asm!(
                "vzeroall",
                out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
                options(nostack, nomem, preserves_flags)
            )
        }
    }

    fn xorps_all() {
        // SAFETY: SSE is part of x86-64; the registers are declared.
        unsafe {
            asm!(
                "xorps xmm0, xmm0", "xorps xmm1, xmm1", "xorps xmm2, xmm2",
                "xorps xmm3, xmm3", "xorps xmm4, xmm4", "xorps xmm5, xmm5",
                "xorps xmm6, xmm6", "xorps xmm7, xmm7", "xorps xmm8, xmm8",
                "xorps xmm9, xmm9", "xorps xmm10, xmm10", "xorps xmm11, xmm11",
                "xorps xmm12, xmm12", "xorps xmm13, xmm13", "xorps xmm14, xmm14",
                "xorps xmm15, xmm15",
                out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
                options(nostack, nomem, preserves_flags)
            )
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    use std::arch::asm;

    pub(super) fn clear() {
        // SAFETY: Advanced SIMD is part of AArch64; the registers are
        // declared.
        unsafe {
            asm!(
                "movi v0.16b, #0", "movi v1.16b, #0", "movi v2.16b, #0",
                "movi v3.16b, #0", "movi v4.16b, #0", "movi v5.16b, #0",
                "movi v6.16b, #0", "movi v7.16b, #0", "movi v8.16b, #0",
                "movi v9.16b, #0", "movi v10.16b, #0", "movi v11.16b, #0",
                "movi v12.16b, #0", "movi v13.16b, #0", "movi v14.16b, #0",
                "movi v15.16b, #0", "movi v16.16b, #0", "movi v17.16b, #0",
                "movi v18.16b, #0", "movi v19.16b, #0", "movi v20.16b, #0",
                "movi v21.16b, #0", "movi v22.16b, #0", "movi v23.16b, #0",
                "movi v24.16b, #0", "movi v25.16b, #0", "movi v26.16b, #0",
                "movi v27.16b, #0", "movi v28.16b, #0", "movi v29.16b, #0",
                "movi v30.16b, #0", "movi v31.16b, #0",
                out("v0") _, out("v1") _, out("v2") _, out("v3") _,
                out("v4") _, out("v5") _, out("v6") _, out("v7") _,
                out("v8") _, out("v9") _, out("v10") _, out("v11") _,
                out("v12") _, out("v13") _, out("v14") _, out("v15") _,
                out("v16") _, out("v17") _, out("v18") _, out("v19") _,
                out("v20") _, out("v21") _, out("v22") _, out("v23") _,
                out("v24") _, out("v25") _, out("v26") _, out("v27") _,
                out("v28") _, out("v29") _, out("v30") _, out("v31") _,
                options(nostack, nomem, preserves_flags)
            )
        }
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    pub(super) fn clear() {}
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use std::arch::asm;

    use super::*;

    const PATTERN: [u8; 16] = *b"secret-in-a-reg!";

    /// A pattern put in xmm15 (and xmm31 with AVX-512) is gone after
    /// `clear_registers`. Nothing between the asm blocks uses those
    /// registers, so without the clearing the pattern would still be there.
    #[test]
    fn vector_registers_are_cleared() {
        let wide = std::arch::is_x86_feature_detected!("avx512f");
        // SAFETY: loads from a 16-byte buffer into registers declared (or,
        // for xmm31, unused by compiled code without AVX-512).
        unsafe {
            asm!("movdqu xmm15, [{0}]", in(reg) PATTERN.as_ptr(), out("xmm15") _,
                 options(nostack, readonly, preserves_flags));
            if wide {
                asm!("vmovdqu32 xmm31, [{0}]", in(reg) PATTERN.as_ptr(),
                     options(nostack, readonly, preserves_flags));
            }
        }
        clear_registers();
        let (mut low, mut high) = ([0u8; 16], [0u8; 16]);
        // SAFETY: stores into 16-byte buffers.
        unsafe {
            asm!("movdqu [{0}], xmm15", in(reg) low.as_mut_ptr(),
                 options(nostack, preserves_flags));
            if wide {
                asm!("vmovdqu32 [{0}], xmm31", in(reg) high.as_mut_ptr(),
                     options(nostack, preserves_flags));
            }
        }
        assert_ne!(low, PATTERN, "xmm15 still holds the pattern");
        assert_ne!(high, PATTERN, "xmm31 still holds the pattern");
    }

    /// Cost per call; run with
    /// `cargo test --release --lib secure::registers -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_clear_registers() {
        let n = 10_000_000u32;
        let t = std::time::Instant::now();
        for _ in 0..n {
            clear_registers();
        }
        let ns = t.elapsed().as_secs_f64() * 1e9 / f64::from(n);
        eprintln!("clear_registers: {ns:.1} ns per call");
    }
}
