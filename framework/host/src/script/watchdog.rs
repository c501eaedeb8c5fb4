//! The wall-clock watchdog: the last resort against a script call that runs
//! for too long despite its operation budget.
//!
//! The operation budget ([`super::budget`]) is what bounds a call, and it is
//! deterministic: the same call runs out of it at the same operation on every
//! machine. With the sandbox's size limits it bounds a call to at most a few
//! hundred milliseconds on this project's machines, most calls to a few
//! (BENCHMARKS.md, `script_limits`). The
//! watchdog exists for what that reasoning may have missed — an operation of
//! Rhai's library slower than measured, a machine far slower than any sane
//! one — and is [`super::sandbox::Limits::watchdog`] long (2 s by default),
//! far beyond what the budget allows.
//!
//! It is the one part of script execution that reads a clock, and it does so
//! on a thread of its own, never on the thread that schedules:
//!
//! 1. each thread that calls scripts has a [`Slot`]: a call counter that is odd
//!    while a call runs, and an `abort` mark;
//! 2. a call makes the counter odd when it starts and even when it ends (two
//!    atomic increments, no clock);
//! 3. the watchdog thread wakes every [`TICK`] and notes, per slot, since when
//!    it has seen the same odd counter; once that is longer than the slot's
//!    limit it marks that call (by its counter) to be ended;
//! 4. the script's operation hook ([`super::budget`]) sees the flag at its next
//!    operation and ends the call, which is reported as a *watchdog* failure
//!    ([`crate::health::FailureKind::Watchdog`]), counted apart from ordinary
//!    errors in the report.
//!
//! A decision therefore depends on the wall clock only when the watchdog
//! fires, and the report says when it did.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// How often the watchdog looks at the calls in flight: a call is ended at most
/// this much after its limit.
pub const TICK: Duration = Duration::from_millis(20);

/// One thread's calls, as the watchdog sees them.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    /// Calls started plus calls ended: odd while a call runs.
    seq: AtomicU64,
    /// The running call's limit, milliseconds.
    limit_ms: AtomicU64,
    /// Set by the watchdog to the counter of the call that must end (so that
    /// it can never end another call than the one it timed).
    abort: AtomicU64,
}

impl Slot {
    /// Marks the start of a call that may run for `limit`: a counter value the
    /// watchdog has never seen, so that nothing of an earlier call carries over.
    #[inline]
    pub(crate) fn begin(&self, limit: Duration) {
        self.set_limit(limit);
        let step = if self.seq.load(Ordering::Relaxed) % 2 == 0 { 1 } else { 2 };
        self.seq.fetch_add(step, Ordering::Release);
    }

    /// Sets the running call's limit.
    #[inline]
    pub(crate) fn set_limit(&self, limit: Duration) {
        self.limit_ms.store(limit.as_millis().min(u128::from(u64::MAX)) as u64, Ordering::Relaxed);
    }

    /// Marks the end of the call.
    #[inline]
    pub(crate) fn end(&self) {
        if self.seq.load(Ordering::Relaxed) % 2 == 1 {
            self.seq.fetch_add(1, Ordering::Release);
        }
    }

    /// Whether the watchdog has asked the running call to end.
    #[inline]
    pub(crate) fn aborted(&self) -> bool {
        let seq = self.seq.load(Ordering::Relaxed);
        seq % 2 == 1 && self.abort.load(Ordering::Relaxed) == seq
    }
}

/// Every slot, for the watchdog thread.
static SLOTS: Mutex<Vec<Weak<Slot>>> = Mutex::new(Vec::new());

/// The watchdog thread, started with the first slot.
static THREAD: OnceLock<()> = OnceLock::new();

/// A new slot for the calling thread, watched from now on.
pub(crate) fn slot() -> Arc<Slot> {
    let slot = Arc::new(Slot::default());
    SLOTS.lock().unwrap_or_else(|e| e.into_inner()).push(Arc::downgrade(&slot));
    THREAD.get_or_init(|| {
        // A host that cannot start the thread runs without the last resort; the
        // operation budget still bounds every call.
        let _ = std::thread::Builder::new().name("kairos-script-watchdog".into()).spawn(watch);
    });
    slot
}

/// The watchdog thread's loop (see the module docs).
fn watch() {
    // Per slot (by address): the odd counter last seen, and since when.
    let mut seen: HashMap<usize, (u64, Instant)> = HashMap::new();
    loop {
        std::thread::sleep(TICK);
        let now = Instant::now();
        let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        slots.retain(|w| w.strong_count() > 0);
        let live: Vec<Arc<Slot>> = slots.iter().filter_map(Weak::upgrade).collect();
        drop(slots);
        seen.retain(|addr, _| live.iter().any(|s| Arc::as_ptr(s) as usize == *addr));
        for s in &live {
            let addr = Arc::as_ptr(s) as usize;
            let seq = s.seq.load(Ordering::Acquire);
            if seq % 2 == 0 {
                seen.remove(&addr);
                continue;
            }
            match seen.get(&addr) {
                Some(&(last, since)) if last == seq => {
                    let limit = Duration::from_millis(s.limit_ms.load(Ordering::Relaxed));
                    if now.duration_since(since) >= limit {
                        s.abort.store(seq, Ordering::Relaxed);
                    }
                }
                _ => {
                    seen.insert(addr, (seq, now));
                }
            }
        }
    }
}
