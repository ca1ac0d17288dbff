//! Log lines a client can cause, at a bounded rate: a token bucket per kind of line, and a count
//! of what was dropped, reported with the next line that is written.

use std::sync::Mutex;
use std::time::Instant;

/// A token bucket for one kind of log line (the client's error beacon, guest refusals).
#[derive(Debug)]
pub(crate) struct LogBudget {
    per_second: f64,
    burst: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    at: Instant,
    dropped: u64,
}

/// Whether to write a line now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Write it; `dropped` lines were left out since the last one written.
    Write { dropped: u64 },
    /// Leave it out (it is counted).
    Drop,
}

impl LogBudget {
    /// At most `burst` lines at once, `per_second` sustained.
    pub fn new(per_second: u32, burst: u32) -> Self {
        LogBudget {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            state: Mutex::new(State {
                tokens: f64::from(burst.max(1)),
                at: Instant::now(),
                dropped: 0,
            }),
        }
    }

    /// Takes one line from the budget.
    pub fn take(&self) -> Verdict {
        let Ok(mut state) = self.state.lock() else {
            return Verdict::Drop;
        };
        let now = Instant::now();
        let refill = now.duration_since(state.at).as_secs_f64() * self.per_second;
        state.tokens = (state.tokens + refill).min(self.burst);
        state.at = now;
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            Verdict::Write {
                dropped: std::mem::take(&mut state.dropped),
            }
        } else {
            state.dropped += 1;
            Verdict::Drop
        }
    }
}

/// `text` cut to `max` characters with every control character escaped (`\r`, `\n`, `\u{1b}`):
/// a client's text can never start a log line of its own or move the terminal's cursor.
pub(crate) fn sanitized(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 8);
    for c in text.chars().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_then_drops_are_counted_and_reported_with_the_next_line() {
        let budget = LogBudget::new(0, 3);
        for _ in 0..3 {
            assert!(matches!(budget.take(), Verdict::Write { .. }));
        }
        for _ in 0..5 {
            assert_eq!(budget.take(), Verdict::Drop);
        }
        let refilled = LogBudget::new(1000, 1);
        assert_eq!(refilled.take(), Verdict::Write { dropped: 0 });
        assert_eq!(refilled.take(), Verdict::Drop);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(refilled.take(), Verdict::Write { dropped: 1 });
    }

    #[test]
    fn control_characters_are_escaped_and_text_is_cut() {
        assert_eq!(
            sanitized("a\r\nINFO forged\u{1b}[2J", 100),
            "a\\r\\nINFO forged\\u{1b}[2J"
        );
        assert_eq!(sanitized("ééé", 2), "éé");
    }
}
