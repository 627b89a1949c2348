//! The byte-at-a-time table: the reference the tests hold the faster code to.

/// The reflected CRC-32 polynomial.
pub const POLY: u32 = 0xEDB8_8320;

/// `state` after one zero byte.
const fn zero_byte(mut state: u32) -> u32 {
    let mut bit = 0;
    while bit < 8 {
        state = if state & 1 != 0 {
            (state >> 1) ^ POLY
        } else {
            state >> 1
        };
        bit += 1;
    }
    state
}

/// `TABLE[b]`: the state `b` after one zero byte.
pub const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = zero_byte(b as u32);
        b += 1;
    }
    table
};

/// The (not inverted) state after `data`.
pub fn update(mut state: u32, data: &[u8]) -> u32 {
    for &b in data {
        state = TABLE[((state ^ u32::from(b)) & 0xff) as usize] ^ (state >> 8);
    }
    state
}
