//! Faults on demand: deterministic rules per route, changeable at runtime, and counters of the
//! requests each route served.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::feeds::Feed;

/// When a rule fires. Request numbers count from 1 per route, pages from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Every request.
    Always,
    /// The first `n` requests to the route.
    FirstRequests(u64),
    /// Every `k`-th request (`k`, `2k`, …).
    EveryNth(u64),
    /// Requests for this page (zero-based page index of the request).
    Page(u64),
}

impl Trigger {
    fn fires(&self, request_number: u64, page: u64) -> bool {
        match *self {
            Trigger::Always => true,
            Trigger::FirstRequests(n) => request_number <= n,
            Trigger::EveryNth(k) => k > 0 && request_number.is_multiple_of(k),
            Trigger::Page(p) => page == p,
        }
    }
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429 with a `Retry-After` header in seconds.
    TooManyRequests {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// An HTTP 5xx (or any) status with a short body.
    Status {
        /// The status code.
        status: u16,
    },
    /// The response starts after a delay.
    Delay {
        /// How long.
        millis: u64,
    },
    /// The body stops half way: a CSV cut in the middle of a row, a JSON document cut short.
    TruncatedBody,
    /// A well-formed page with only half its records; totals still announce all of them.
    ShortPage,
    /// A CSV header column renamed (e.g. `Quantity Issued` → `Quantity  Issued`).
    RenameColumn {
        /// The real column name.
        from: String,
        /// The name served instead.
        to: String,
    },
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// The route it applies to; `None` for every route.
    pub feed: Option<Feed>,
    /// When it fires.
    pub when: Trigger,
    /// What happens.
    pub fault: Fault,
}

impl FaultRule {
    /// A rule for one route.
    pub fn on(feed: Feed, when: Trigger, fault: Fault) -> FaultRule {
        FaultRule {
            feed: Some(feed),
            when,
            fault,
        }
    }
}

/// The active fault rules; several may fire on one request (a delay and a 429, say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// The rules, checked in order.
    pub rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> FaultPlan {
        FaultPlan::default()
    }

    /// Adds a rule.
    pub fn with(mut self, rule: FaultRule) -> FaultPlan {
        self.rules.push(rule);
        self
    }

    /// The faults that fire for request `request_number` (from 1) to `feed`, for `page`.
    pub(crate) fn firing(&self, feed: Feed, request_number: u64, page: u64) -> Vec<Fault> {
        self.rules
            .iter()
            .filter(|r| r.feed.is_none_or(|f| f == feed) && r.when.fires(request_number, page))
            .map(|r| r.fault.clone())
            .collect()
    }
}

/// What a handler must do for one request, decided before it renders anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    pub delay: Option<Duration>,
    pub reject: Option<Fault>,
    pub truncate_body: bool,
    pub short_page: bool,
    pub renames: Vec<(String, String)>,
}

impl Decision {
    pub(crate) fn from_faults(faults: Vec<Fault>) -> Decision {
        let mut d = Decision::default();
        for fault in faults {
            match fault {
                Fault::Delay { millis } => d.delay = Some(Duration::from_millis(millis)),
                Fault::TooManyRequests { .. } | Fault::Status { .. } => {
                    d.reject.get_or_insert(fault);
                }
                Fault::TruncatedBody => d.truncate_body = true,
                Fault::ShortPage => d.short_page = true,
                Fault::RenameColumn { from, to } => d.renames.push((from, to)),
            }
        }
        d
    }
}

/// Requests served per route, including rejected ones.
#[derive(Debug)]
pub(crate) struct Counters {
    by_feed: HashMap<Feed, AtomicU64>,
}

impl Counters {
    pub(crate) fn new() -> Counters {
        Counters {
            by_feed: Feed::ALL.iter().map(|f| (*f, AtomicU64::new(0))).collect(),
        }
    }

    /// Counts one request and returns its number on the route (from 1).
    pub(crate) fn hit(&self, feed: Feed) -> u64 {
        self.by_feed
            .get(&feed)
            .map_or(0, |c| c.fetch_add(1, Ordering::SeqCst) + 1)
    }

    pub(crate) fn get(&self, feed: Feed) -> u64 {
        self.by_feed
            .get(&feed)
            .map_or(0, |c| c.load(Ordering::SeqCst))
    }

    pub(crate) fn reset(&self) {
        for c in self.by_feed.values() {
            c.store(0, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_are_deterministic() {
        assert!(Trigger::FirstRequests(2).fires(2, 0));
        assert!(!Trigger::FirstRequests(2).fires(3, 0));
        assert!(Trigger::EveryNth(3).fires(6, 9));
        assert!(!Trigger::EveryNth(3).fires(7, 9));
        assert!(Trigger::Page(4).fires(1, 4));
        assert!(!Trigger::EveryNth(0).fires(1, 0));
    }
}
