//! The Centrifugo nodes a client publishes through: round-robin choice among the healthy ones
//! and a circuit breaker per node.
//!
//! A node's breaker is **closed** while it answers. After
//! [`ClientOptions::failure_threshold`](super::ClientOptions::failure_threshold) consecutive
//! transient failures (unreachable, timeout, internal error) it **opens**: the node gets no
//! requests until [`ClientOptions::open_delay`](super::ClientOptions::open_delay) has passed.
//! Then one request is let through as a probe (**half-open**): an answer closes the breaker, a
//! failure opens it again for twice as long (at most [`MAX_OPEN_DELAY`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::backend::{NodeHealth, NodeState, PublishError};

/// The longest a breaker stays open between two probes.
pub(super) const MAX_OPEN_DELAY: Duration = Duration::from_secs(30);

/// The nodes and their breakers, shared by every thread that sends and the client's handles.
#[derive(Debug)]
pub(super) struct Nodes {
    nodes: Vec<Node>,
    next: AtomicUsize,
    failure_threshold: u32,
    open_delay: Duration,
}

#[derive(Debug)]
struct Node {
    url: String,
    breaker: Mutex<Breaker>,
}

#[derive(Debug, Default)]
struct Breaker {
    state: NodeState,
    consecutive_failures: u32,
    /// Failed probes since the breaker last closed: the open delay doubles with each.
    failed_probes: u32,
    /// When an open breaker lets a probe through.
    retry_at: Option<Instant>,
    successes: u64,
    failures: u64,
}

impl Nodes {
    pub(super) fn new(urls: Vec<String>, failure_threshold: u32, open_delay: Duration) -> Self {
        Self {
            nodes: urls
                .into_iter()
                .map(|url| Node {
                    url,
                    breaker: Mutex::new(Breaker::default()),
                })
                .collect(),
            next: AtomicUsize::new(0),
            failure_threshold: failure_threshold.max(1),
            open_delay,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(super) fn url(&self, index: usize) -> &str {
        &self.nodes[index].url
    }

    pub(super) fn urls(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|node| node.url.as_str())
    }

    fn breaker(&self, index: usize) -> MutexGuard<'_, Breaker> {
        self.nodes[index]
            .breaker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The node for the next request, in round-robin order among those whose breaker lets it
    /// through, skipping `exclude`. An open breaker whose delay has passed becomes half-open and
    /// this request is its probe. When no node lets a request through, the other node whose
    /// breaker reopens first is tried anyway: a request is never refused without an attempt.
    pub(super) fn pick(&self, exclude: &[usize]) -> Option<usize> {
        let count = self.nodes.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        for step in 0..count {
            let index = (start + step) % count;
            if exclude.contains(&index) {
                continue;
            }
            let mut breaker = self.breaker(index);
            match breaker.state {
                NodeState::Closed => return Some(index),
                NodeState::Open if breaker.retry_at.is_none_or(|at| at <= now) => {
                    breaker.state = NodeState::HalfOpen;
                    return Some(index);
                }
                NodeState::Open | NodeState::HalfOpen => {}
            }
        }
        (0..count)
            .filter(|index| !exclude.contains(index))
            .min_by_key(|&index| self.breaker(index).retry_at)
    }

    /// Records what one request to node `index` came to: only transient failures count against
    /// the node; any other answer, an error code included, shows that it works.
    pub(super) fn record<T>(&self, index: usize, outcome: &Result<T, PublishError>) {
        let failed = matches!(outcome, Err(error) if error.is_transient());
        let mut breaker = self.breaker(index);
        if failed {
            breaker.failures += 1;
            breaker.consecutive_failures = breaker.consecutive_failures.saturating_add(1);
            let open = match breaker.state {
                NodeState::HalfOpen => {
                    breaker.failed_probes = breaker.failed_probes.saturating_add(1);
                    true
                }
                NodeState::Closed if breaker.consecutive_failures >= self.failure_threshold => {
                    tracing::warn!(node = %self.nodes[index].url, failures = breaker.consecutive_failures, "instant: Centrifugo node does not answer; moving off it");
                    true
                }
                // Requests sent before the breaker opened do not push the probe back.
                NodeState::Closed | NodeState::Open => false,
            };
            if open {
                let delay = self
                    .open_delay
                    .saturating_mul(1 << breaker.failed_probes.min(16))
                    .min(MAX_OPEN_DELAY.max(self.open_delay));
                breaker.state = NodeState::Open;
                breaker.retry_at = Some(Instant::now() + delay);
            }
        } else {
            breaker.successes += 1;
            if breaker.state != NodeState::Closed {
                tracing::info!(node = %self.nodes[index].url, "instant: Centrifugo node answers again");
            }
            *breaker = Breaker {
                successes: breaker.successes,
                failures: breaker.failures,
                ..Breaker::default()
            };
        }
    }

    /// Each node's health, in the configured order.
    pub(super) fn health(&self) -> Vec<NodeHealth> {
        (0..self.nodes.len())
            .map(|index| {
                let breaker = self.breaker(index);
                NodeHealth::new(
                    self.nodes[index].url.clone(),
                    breaker.state,
                    breaker.consecutive_failures,
                    breaker.successes,
                    breaker.failures,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> Result<(), PublishError> {
        Err(PublishError::Unreachable {
            url: "http://x".to_owned(),
            reason: "refused".to_owned(),
        })
    }

    fn nodes(delay: Duration) -> Nodes {
        Nodes::new(vec!["http://a".to_owned(), "http://b".to_owned()], 2, delay)
    }

    #[test]
    fn requests_alternate_between_healthy_nodes() {
        let nodes = nodes(Duration::from_secs(60));
        let picks: Vec<usize> = (0..4).map(|_| nodes.pick(&[]).unwrap()).collect();
        assert_eq!(picks, [0, 1, 0, 1]);
        assert_eq!(nodes.pick(&[0]), Some(1));
    }

    #[test]
    fn a_node_opens_after_the_threshold_and_is_skipped() {
        let nodes = nodes(Duration::from_secs(60));
        nodes.record(0, &down());
        assert_eq!(nodes.health()[0].state, NodeState::Closed);
        nodes.record(0, &down());
        let health = nodes.health();
        assert_eq!(health[0].state, NodeState::Open);
        assert_eq!(health[0].consecutive_failures, 2);
        assert!((0..4).all(|_| nodes.pick(&[]) == Some(1)));
        // Excluding the only healthy node still tries the open one.
        assert_eq!(nodes.pick(&[1]), Some(0));
    }

    #[test]
    fn errors_that_are_not_transient_keep_the_node_closed() {
        let nodes = nodes(Duration::from_secs(60));
        for _ in 0..5 {
            nodes.record::<()>(
                0,
                &Err(PublishError::Server {
                    code: 102,
                    message: "unknown channel".to_owned(),
                }),
            );
        }
        assert_eq!(nodes.health()[0].state, NodeState::Closed);
        assert_eq!(nodes.health()[0].successes, 5);
    }

    #[test]
    fn an_open_node_is_probed_after_the_delay_and_closes_on_success() {
        let nodes = nodes(Duration::from_millis(20));
        nodes.record(0, &down());
        nodes.record(0, &down());
        std::thread::sleep(Duration::from_millis(30));
        let probe = (0..2).find_map(|_| nodes.pick(&[]).filter(|&i| i == 0));
        assert_eq!(probe, Some(0));
        assert_eq!(nodes.health()[0].state, NodeState::HalfOpen);
        // While the probe is out, the node gets nothing else.
        assert!((0..4).all(|_| nodes.pick(&[]) == Some(1)));
        nodes.record(0, &Ok(()));
        let health = nodes.health();
        assert_eq!(health[0].state, NodeState::Closed);
        assert_eq!(health[0].consecutive_failures, 0);
    }

    #[test]
    fn a_failed_probe_opens_the_node_again_for_longer() {
        let nodes = nodes(Duration::from_millis(200));
        nodes.record(0, &down());
        nodes.record(0, &down());
        std::thread::sleep(Duration::from_millis(250));
        while nodes.pick(&[]) != Some(0) {}
        nodes.record(0, &down());
        assert_eq!(nodes.health()[0].state, NodeState::Open);
        std::thread::sleep(Duration::from_millis(220));
        // The delay doubled: 400 ms, not 200.
        assert!((0..4).all(|_| nodes.pick(&[]) == Some(1)));
    }
}
