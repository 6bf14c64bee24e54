//! The app's metrics as Prometheus scrapes them: the names the rendered alerts and dashboards
//! query, and the request-latency buckets a latency SLO threshold must be one of.

/// What a metric is, as Prometheus exposes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// In seconds: the exposed name ends `_seconds`.
    Histogram,
}

/// One metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// As scraped and queried (`app_http_requests_total`).
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

impl Metric {
    /// The name a registry is given: the exposition adds `_total` to a counter and the unit
    /// (`_seconds`) to a histogram registered with one.
    pub fn registered_name(&self) -> &'static str {
        let suffix = match self.kind {
            Kind::Counter => "_total",
            Kind::Histogram => "_seconds",
            Kind::Gauge => "",
        };
        self.name.strip_suffix(suffix).unwrap_or(self.name)
    }
}

pub const HTTP_REQUESTS: Metric = Metric {
    name: "app_http_requests_total",
    kind: Kind::Counter,
    help: "HTTP requests served",
};
pub const HTTP_REQUEST_DURATION: Metric = Metric {
    name: "app_http_request_duration_seconds",
    kind: Kind::Histogram,
    help: "HTTP request latency",
};
pub const CONFIG_VERSION: Metric = Metric {
    name: "app_config_version",
    kind: Kind::Gauge,
    help: "Version of each config this replica serves (highest across orgs)",
};
pub const CONFIG_RELOADS: Metric = Metric {
    name: "app_config_reloads_total",
    kind: Kind::Counter,
    help: "Config reloads triggered by Redis or the reconcile loop",
};
pub const CHAT_CONNECTIONS: Metric = Metric {
    name: "app_chat_connections",
    kind: Kind::Gauge,
    help: "Open chat WebSocket connections on this replica",
};
pub const CHAT_FRAMES_DELIVERED: Metric = Metric {
    name: "app_chat_frames_delivered_total",
    kind: Kind::Counter,
    help: "Fanned-out frames handed to chat sockets on this replica (written, or queued behind slower reads)",
};
pub const CHAT_FRAMES_REJECTED: Metric = Metric {
    name: "app_chat_frames_rejected_total",
    kind: Kind::Counter,
    help: "Chat frames refused with an error frame",
};
pub const CHAT_SLOW_CONSUMERS: Metric = Metric {
    name: "app_chat_slow_consumers_total",
    kind: Kind::Counter,
    help: "Chat connections dropped because they fell behind",
};
pub const CHAT_DELIVERY: Metric = Metric {
    name: "app_chat_delivery_seconds",
    kind: Kind::Histogram,
    help: "Chat frame publish on one replica to dispatch on this one",
};

/// Every metric the app exports.
pub const ALL: [Metric; 9] = [
    HTTP_REQUESTS,
    HTTP_REQUEST_DURATION,
    CONFIG_VERSION,
    CONFIG_RELOADS,
    CHAT_CONNECTIONS,
    CHAT_FRAMES_DELIVERED,
    CHAT_FRAMES_REJECTED,
    CHAT_SLOW_CONSUMERS,
    CHAT_DELIVERY,
];

/// Upper bounds (ms) of [`HTTP_REQUEST_DURATION`]'s buckets. A latency SLO threshold must be one
/// of them: the burn-rate alerts count the requests under it with one bucket's `le`.
pub const LATENCY_BUCKETS_MS: [u32; 12] = [5, 10, 25, 50, 100, 250, 300, 500, 1000, 2500, 5000, 10000];

/// [`LATENCY_BUCKETS_MS`] in seconds, as the histogram takes them. Each is the double nearest
/// its decimal (division is correctly rounded), so the exposed `le` reads `0.3`, not `0.30000000000000004`.
pub fn latency_buckets_seconds() -> [f64; 12] {
    LATENCY_BUCKETS_MS.map(|ms| f64::from(ms) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_names_drop_what_the_exposition_adds() {
        assert_eq!(HTTP_REQUESTS.registered_name(), "app_http_requests");
        assert_eq!(HTTP_REQUEST_DURATION.registered_name(), "app_http_request_duration");
        assert_eq!(CHAT_CONNECTIONS.registered_name(), "app_chat_connections");
        for metric in ALL {
            assert!(metric.name.starts_with("app_"), "{}", metric.name);
            let suffix = match metric.kind {
                Kind::Counter => "_total",
                Kind::Histogram => "_seconds",
                Kind::Gauge => "",
            };
            assert!(metric.name.ends_with(suffix), "{}", metric.name);
        }
    }

    #[test]
    fn bucket_bounds_in_seconds_are_their_decimals() {
        let seconds = latency_buckets_seconds();
        assert_eq!(seconds[6], 0.3);
        assert_eq!(seconds[0].to_string(), "0.005");
        assert!(seconds.windows(2).all(|w| w[0] < w[1]));
    }
}
