//! Simulated time.
//!
//! kairos counts time in whole **seconds** on an `i64` axis whose origin the
//! workload chooses (the start of a pass day, the `UnixStartTime` of an SWF log).
//! One second is the resolution of every input format kairos reads, and an `i64`
//! keeps arithmetic exact and deterministic (no float drift between runs).

/// A point or span of simulated time, in seconds.
pub type Time = i64;

/// Formats a span of seconds for people: `95` → `1m35s`, `7260` → `2h01m`.
pub fn fmt_duration(secs: Time) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    if s < 60 {
        format!("{sign}{s}s")
    } else if s < 3600 {
        format!("{sign}{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{sign}{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{sign}{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally_at_every_scale() {
        let cases = [
            ("seconds stay seconds", 42, "42s"),
            ("minutes carry padded seconds", 95, "1m35s"),
            ("hours carry padded minutes", 7260, "2h01m"),
            ("days carry padded hours", 90_000, "1d01h"),
            ("negative spans keep their sign", -95, "-1m35s"),
        ];
        for (name, secs, want) in cases {
            assert_eq!(fmt_duration(secs), want, "{name}");
        }
    }
}
