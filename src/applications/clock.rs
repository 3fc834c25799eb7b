//! A stage's clock: the time it has run, which stops while the applicant is asked for
//! more documents, and whether it is past its limit.

use time::{Duration, OffsetDateTime};

/// A stretch when the clock stood still: from, until (`None`: still stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub from: OffsetDateTime,
    pub until: Option<OffsetDateTime>,
}

/// The pauses clipped to `[start, end]`, sorted and merged, none empty.
fn merged(
    start: OffsetDateTime,
    end: OffsetDateTime,
    pauses: &[Pause],
) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    let mut spans: Vec<(OffsetDateTime, OffsetDateTime)> = pauses
        .iter()
        .map(|p| (p.from.max(start), p.until.unwrap_or(end).min(end)))
        .filter(|(a, b)| a < b)
        .collect();
    spans.sort();
    let mut out: Vec<(OffsetDateTime, OffsetDateTime)> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// How long the clock has run from `start` to `end`, pauses left out.
pub fn running(start: OffsetDateTime, end: OffsetDateTime, pauses: &[Pause]) -> Duration {
    if end <= start {
        return Duration::ZERO;
    }
    let stopped: Duration = merged(start, end, pauses)
        .iter()
        .map(|(a, b)| *b - *a)
        .sum();
    (end - start) - stopped
}

/// Days the clock has run, to one decimal.
pub fn running_days(start: OffsetDateTime, end: OffsetDateTime, pauses: &[Pause]) -> f64 {
    (running(start, end, pauses).as_seconds_f64() / 86_400.0 * 10.0).round() / 10.0
}

/// Whether a stage begun at `start`, with `limit_days`, is past its limit at `now`.
pub fn overdue(
    start: OffsetDateTime,
    limit_days: u32,
    pauses: &[Pause],
    now: OffsetDateTime,
) -> bool {
    running(start, now, pauses) > Duration::days(i64::from(limit_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn t(minutes: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn the_clock_stops_while_the_applicant_is_asked() {
        let pauses = [Pause {
            from: t(60),
            until: Some(t(120)),
        }];
        assert_eq!(running(t(0), t(180), &pauses), Duration::minutes(120));
        // Still stopped: nothing after `from` counts.
        let open = [Pause {
            from: t(60),
            until: None,
        }];
        assert_eq!(running(t(0), t(1_000), &open), Duration::minutes(60));
        assert_eq!(running(t(10), t(5), &pauses), Duration::ZERO);
        let day = 24 * 60;
        assert!(!overdue(
            t(0),
            15,
            &[Pause {
                from: t(day),
                until: Some(t(11 * day))
            }],
            t(20 * day)
        ));
        assert!(overdue(t(0), 15, &[], t(16 * day)));
    }

    /// Against a brute force: every minute counted one by one.
    #[test]
    fn running_time_matches_counting_minutes() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let mut nonempty = 0;
        for _ in 0..300 {
            let start = rng.random_range(0..500);
            let end = rng.random_range(0..800);
            let pauses: Vec<Pause> = (0..rng.random_range(0..5))
                .map(|_| {
                    let a = rng.random_range(0..800);
                    let until = if rng.random_bool(0.2) {
                        None
                    } else {
                        Some(t(a + rng.random_range(0..200)))
                    };
                    Pause { from: t(a), until }
                })
                .collect();
            let brute = (start..end.max(start))
                .filter(|&m| {
                    !pauses.iter().any(|p| {
                        m >= (p.from - OffsetDateTime::UNIX_EPOCH).whole_minutes()
                            && p.until.is_none_or(|u| {
                                m < (u - OffsetDateTime::UNIX_EPOCH).whole_minutes()
                            })
                    })
                })
                .count() as i64;
            if brute > 0 && !pauses.is_empty() {
                nonempty += 1;
            }
            assert_eq!(
                running(t(start), t(end), &pauses),
                Duration::minutes(brute),
                "{start}..{end} {pauses:?}"
            );
        }
        assert!(nonempty > 100, "{nonempty}");
    }
}
