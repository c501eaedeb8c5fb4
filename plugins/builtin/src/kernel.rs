//! Dimension-count specialisation for the hot loops.
//!
//! A cluster's number of resource dimensions is known only at run time, so a
//! loop over a node's dimensions cannot unroll and every access is
//! bounds-checked. The packing, `fit` and `headroom` loops are therefore written
//! once over a const `D` and called through [`dims!`] with `D` = the cluster's
//! dimension count for the common small counts; other counts take the same code
//! over a slice.

/// `dims!(n, f(args…))` calls `f::<n>(args…)` for `n` in `1..=8`, and
/// `f::<0>(args…)` otherwise (0 meaning "take the length from the slices").
macro_rules! dims {
    ($n:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $n {
            1 => $f::<1>($($arg),*),
            2 => $f::<2>($($arg),*),
            3 => $f::<3>($($arg),*),
            4 => $f::<4>($($arg),*),
            5 => $f::<5>($($arg),*),
            6 => $f::<6>($($arg),*),
            7 => $f::<7>($($arg),*),
            8 => $f::<8>($($arg),*),
            _ => $f::<0>($($arg),*),
        }
    };
}
pub(crate) use dims;

/// The dimension count a kernel instantiated with `D` works with: `D`, or the
/// run-time count when `D` is 0.
#[inline(always)]
pub(crate) const fn width<const D: usize>(dims: usize) -> usize {
    if D == 0 {
        dims
    } else {
        D
    }
}
