//! Counters of an app's real-time traffic: what was published, what failed or was dropped, which
//! authorization requests were denied and why, and the embedded server's connections,
//! subscriptions and deliveries.
//!
//! Every [`Publisher`](crate::Publisher) has a [`Metrics`]; integrations (the auth routes, the
//! embedded server) add to it. [`Publisher::metrics`](crate::Publisher::metrics) reads a
//! [`MetricsSnapshot`], which [`MetricsSnapshot::to_prometheus`] writes in Prometheus' text
//! exposition format (version 0.0.4), with the `prometheus-client` crate.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`MetricsSnapshot::to_prometheus`]'s text.
///
/// ```
/// assert_eq!(
///     instant_core::metrics::PROMETHEUS_CONTENT_TYPE,
///     "text/plain; version=0.0.4; charset=utf-8"
/// );
/// ```
pub const PROMETHEUS_CONTENT_TYPE: &str =
    prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The live counters shared by a publisher and the parts of the app that report to it.
///
/// Cheap to update from any thread (atomics; the denials by reason behind a short lock).
/// Integrations call the `record_*` methods; apps read them through
/// [`Publisher::metrics`](crate::Publisher::metrics).
///
/// ```
/// use instant_core::testing::RecordingBackend;
///
/// let publisher = RecordingBackend::new().publisher("mysite");
/// let metrics = publisher.metrics_handle();
/// metrics.record_denial("level");
/// metrics.record_connection_opened();
/// metrics.record_subscription();
/// metrics.record_deliveries(2);
/// metrics.record_connection_closed();
/// let snapshot = publisher.metrics();
/// assert_eq!(snapshot.denied("level"), 1);
/// assert_eq!((snapshot.connections, snapshot.open_connections), (1, 0));
/// assert_eq!((snapshot.subscriptions, snapshot.deliveries), (1, 2));
/// ```
#[derive(Debug, Default)]
pub struct Metrics {
    pub(crate) awaited_ok: AtomicU64,
    pub(crate) awaited_failed: AtomicU64,
    denied: Mutex<BTreeMap<&'static str, u64>>,
    connections: AtomicU64,
    open_connections: AtomicI64,
    subscriptions: AtomicU64,
    deliveries: AtomicU64,
}

impl Metrics {
    /// Counts one denied authorization request (a token refused, a connection or a subscription
    /// refused) under `reason`, a short fixed label such as `level` or `invalid_token`.
    pub fn record_denial(&self, reason: &'static str) {
        *self
            .denied
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(reason)
            .or_insert(0) += 1;
    }

    /// Counts a client connection opened (the embedded server's WebSockets).
    pub fn record_connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.open_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a client connection closed.
    pub fn record_connection_closed(&self) {
        self.open_connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// Counts a subscription accepted.
    pub fn record_subscription(&self) {
        self.subscriptions.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `n` publications queued for subscribers (one per subscriber and publication).
    pub fn record_deliveries(&self, n: u64) {
        self.deliveries.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters kept here; the publishing figures are completed by the publisher.
    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            denied: self
                .denied
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .map(|(reason, n)| ((*reason).to_owned(), *n))
                .collect(),
            connections: self.connections.load(Ordering::Relaxed),
            open_connections: u64::try_from(self.open_connections.load(Ordering::Relaxed))
                .unwrap_or(0),
            subscriptions: self.subscriptions.load(Ordering::Relaxed),
            deliveries: self.deliveries.load(Ordering::Relaxed),
            ..MetricsSnapshot::default()
        }
    }
}

/// The counters at one moment ([`Publisher::metrics`](crate::Publisher::metrics)).
///
/// ```
/// use instant_core::testing::RecordingBackend;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let publisher = RecordingBackend::new().publisher("mysite");
/// publisher.publish("news", "Hello").await.unwrap();
/// publisher.publish("news", "Again").detach();
/// publisher.metrics_handle().record_denial("level");
/// let metrics = publisher.metrics();
/// assert_eq!(metrics.published, 2);
/// assert_eq!((metrics.denied("level"), metrics.denied_total()), (1, 1));
/// assert!(metrics.to_prometheus().contains("instant_events_published_total 2"));
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Events published: awaited publishes that succeeded and fire-and-forget events the
    /// backend delivered.
    pub published: u64,
    /// Awaited publishes that returned an error.
    pub failed: u64,
    /// Fire-and-forget events dropped (queue full, or given up after retries).
    pub dropped: u64,
    /// Fire-and-forget attempts retried.
    pub retried: u64,
    /// Denied authorization requests by reason.
    pub denied: BTreeMap<String, u64>,
    /// Client connections opened since start (the embedded server's).
    pub connections: u64,
    /// Client connections open now (the embedded server's).
    pub open_connections: u64,
    /// Subscriptions accepted since start (the embedded server's).
    pub subscriptions: u64,
    /// Publications queued for subscribers since start, one per subscriber (the embedded
    /// server's).
    pub deliveries: u64,
}

impl MetricsSnapshot {
    /// Denials counted under `reason`.
    #[must_use]
    pub fn denied(&self, reason: &str) -> u64 {
        self.denied.get(reason).copied().unwrap_or(0)
    }

    /// Denials of every reason.
    #[must_use]
    pub fn denied_total(&self) -> u64 {
        self.denied.values().sum()
    }

    /// The counters in Prometheus' text exposition format (version 0.0.4; its content type is
    /// [`PROMETHEUS_CONTENT_TYPE`]): `instant_events_published_total`,
    /// `instant_publish_failed_total`, `instant_events_dropped_total`,
    /// `instant_publish_retries_total`, `instant_auth_denied_total{reason}`,
    /// `instant_connections_total`, `instant_open_connections`, `instant_subscriptions_total`,
    /// `instant_deliveries_total`.
    #[must_use]
    pub fn to_prometheus(&self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self.clone()));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry);
        text
    }
}

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

impl Collector for MetricsSnapshot {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let e = &mut encoder;
        counter(
            e,
            "instant_events_published",
            "Events published: awaited publishes that succeeded and fire-and-forget events delivered",
            self.published,
        )?;
        counter(
            e,
            "instant_publish_failed",
            "Awaited publishes that returned an error",
            self.failed,
        )?;
        counter(
            e,
            "instant_events_dropped",
            "Fire-and-forget events dropped",
            self.dropped,
        )?;
        counter(
            e,
            "instant_publish_retries",
            "Fire-and-forget attempts retried",
            self.retried,
        )?;
        {
            let metric = ConstCounter::new(0_u64);
            let mut family = e.encode_descriptor(
                "instant_auth_denied",
                "Denied authorization requests by reason",
                None,
                metric.metric_type(),
            )?;
            for (reason, n) in &self.denied {
                let labels = [("reason", reason.as_str())];
                ConstCounter::new(*n).encode(family.encode_family(&labels)?)?;
            }
        }
        counter(
            e,
            "instant_connections",
            "Client connections opened (embedded server)",
            self.connections,
        )?;
        let open = ConstGauge::new(i64::try_from(self.open_connections).unwrap_or(i64::MAX));
        open.encode(e.encode_descriptor(
            "instant_open_connections",
            "Client connections open now (embedded server)",
            None,
            open.metric_type(),
        )?)?;
        counter(
            e,
            "instant_subscriptions",
            "Subscriptions accepted (embedded server)",
            self.subscriptions,
        )?;
        counter(
            e,
            "instant_deliveries",
            "Publications queued for subscribers, one per subscriber (embedded server)",
            self.deliveries,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_counter_and_each_denial_reason() {
        let metrics = Metrics::default();
        metrics.record_denial("level");
        metrics.record_denial("level");
        metrics.record_denial("invalid_token");
        metrics.record_connection_opened();
        metrics.record_subscription();
        metrics.record_deliveries(3);
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.denied("level"), 2);
        assert_eq!(snapshot.denied_total(), 3);
        let text = snapshot.to_prometheus();
        for line in [
            "# TYPE instant_events_published_total counter",
            "instant_auth_denied_total{reason=\"level\"} 2",
            "instant_auth_denied_total{reason=\"invalid_token\"} 1",
            "instant_connections_total 1",
            "instant_open_connections 1",
            "instant_subscriptions_total 1",
            "instant_deliveries_total 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
