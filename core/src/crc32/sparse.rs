//! CRC-32 without tables or carry-less multiply for all but the last few kilobytes, by a
//! sparse multiple of the polynomial (the idea of Russell's "chorba" CRC, 2024).
//!
//! With G the CRC-32 polynomial, x^19200 + x^9920 + x^7488 + x^5696 + 1 is a multiple of G
//! (found by a meet-in-the-middle search over multiples of 64, `sparse_multiple_divides` below
//! checks it). So modulo G a bit of degree d >= 19200 may be replaced by bits of degrees
//! d-19200+9920, d-19200+7488, d-19200+5696 and d-19200: moved 145, 183, 211 and 300 64-bit
//! words later in the data, without changing the CRC. Doing that word by word from the front
//! ("pulling": word i absorbs what the words 145, 183, 211 and 300 before it became) leaves
//! zeros everywhere but the last 300 words, whose CRC (2,400 bytes through crc32fast's
//! slice-by-16 tables) is the CRC of the whole. Each 8 bytes cost one load, four loads of
//! recent words, four XORs and a store, where a table-driven CRC does eight table loads.

/// How far back (in 64-bit words) word i pulls from.
const PULLS: [usize; 4] = [145, 183, 211, 300];
const REACH: usize = 300;
/// Words computed between two slides of the history window.
const WINDOW: usize = 2048;
/// Below this the tables are as fast (the last REACH words always go through them).
pub const MIN_LEN: usize = 16 * 1024;

/// zlib's `crc32(crc, data)` with tables (crc32fast's slice-by-16, where wasm has nothing
/// faster).
fn tables(crc: u32, data: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new_with_initial(crc);
    hasher.update(data);
    hasher.finalize()
}

fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(bytes);
    u64::from_le_bytes(w)
}

/// zlib's `crc32(crc, data)`: the CRC of what `crc` covered followed by `data`.
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    if data.len() < MIN_LEN {
        return tables(crc, data);
    }
    let words = data.len() / 8;
    let folded = words - REACH;
    // history[REACH + k] is what word base + k became; history[..REACH] the REACH words
    // before base (zeros before the start of the data).
    let mut history = [0u64; REACH + WINDOW];
    // The incoming CRC enters as an XOR into the first 32 bits.
    let mut inject = u64::from(!crc);
    let mut base = 0;
    while base < folded {
        let n = (folded - base).min(WINDOW);
        for (k, bytes) in data[8 * base..8 * (base + n)].chunks_exact(8).enumerate() {
            let w: &mut [u64; REACH + 1] =
                (&mut history[k..=k + REACH]).try_into().expect("window");
            let v = word(bytes)
                ^ inject
                ^ w[REACH - PULLS[0]]
                ^ w[REACH - PULLS[1]]
                ^ w[REACH - PULLS[2]]
                ^ w[REACH - PULLS[3]];
            w[REACH] = v;
            inject = 0;
        }
        history.copy_within(n..n + REACH, 0);
        base += n;
    }
    // The last REACH words pull only from folded words (history[..REACH] now holds the last
    // REACH of them); their CRC is the CRC of everything.
    let mut last = [0u8; 8 * REACH];
    for (i, out) in (folded..words).zip(last.chunks_exact_mut(8)) {
        let mut v = word(&data[8 * i..8 * i + 8]);
        for d in PULLS {
            if i - d < folded {
                v ^= history[i - d + REACH - folded];
            }
        }
        out.copy_from_slice(&v.to_le_bytes());
    }
    // The folded words are zeros now: starting from zero (the CRC value !0), the CRC of the
    // last words is the CRC of everything.
    tables(tables(!0, &last), &data[8 * words..])
}

#[cfg(test)]
mod tests {
    use super::super::table;
    use super::*;

    /// x^k mod G, G = x^32 + 0x04C11DB7 in the usual (not reflected) order.
    fn x_to_the(k: u64) -> u32 {
        (0..k).fold(1u32, |r, _| {
            if r & 0x8000_0000 != 0 {
                (r << 1) ^ 0x04C1_1DB7
            } else {
                r << 1
            }
        })
    }

    #[test]
    fn sparse_multiple_divides() {
        let terms = [REACH as u64, 155, 117, 89, 0].map(|words| x_to_the(64 * words));
        assert_eq!(terms.iter().fold(0, |acc, t| acc ^ t), 0);
        for (d, lower) in PULLS.iter().zip([155, 117, 89, 0]) {
            assert_eq!(REACH - d, lower);
        }
    }

    #[test]
    fn agrees_with_the_table() {
        let data = super::super::tests::noise(MIN_LEN * 5 + 77);
        for len in [
            MIN_LEN,
            MIN_LEN + 1,
            MIN_LEN + 7,
            8 * (REACH + WINDOW),
            8 * (REACH + 2 * WINDOW) + 3,
            data.len() - 5,
        ] {
            for start in [0, 1, 5] {
                let slice = &data[start..start + len];
                for crc in [0, 0xdead_beef] {
                    assert_eq!(
                        crc32(crc, slice),
                        !table::update(!crc, slice),
                        "length {len} at {start}"
                    );
                }
            }
        }
    }
}
