//! Instant queries against the source environment's Prometheus: its in-cluster server through
//! the Kubernetes API server's service proxy (the same kube context, no port-forward), or a
//! query API at a URL (a central Mimir, with the tenant as `X-Scope-OrgID`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// How long one query may take before the gate refuses for want of an answer.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the queries go.
#[derive(Clone)]
pub enum Prometheus {
    /// `/api/v1/namespaces/NS/services/http:NAME:PORT/proxy`, through the API server.
    Proxy { client: kube::Client, path: String },
    Url {
        http: reqwest::Client,
        base: url::Url,
        tenant: Option<String>,
    },
}

impl std::fmt::Debug for Prometheus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// One series of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    /// NaN when Prometheus answers NaN (e.g. a ratio of no requests over no requests).
    pub value: f64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PrometheusError {
    #[error("Prometheus at {at} did not answer: {reason}")]
    Unreachable { at: String, reason: String },
    #[error("Prometheus at {at} answered HTTP {status}: {body}")]
    Status { at: String, status: u16, body: String },
    #[error("{at} did not answer as Prometheus' query API does ({reason}); it sent: {body}")]
    Garbage { at: String, reason: String, body: String },
    #[error("Prometheus at {at} refused the query ({kind}): {message}")]
    Refused { at: String, kind: String, message: String },
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: String,
    #[serde(default)]
    error: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    result: Vec<Series>,
}

#[derive(Deserialize)]
struct Series {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

impl Prometheus {
    /// The in-cluster server `namespace/service:port`, through the API server of `client`.
    pub fn through_api_server(client: kube::Client, namespace: &str, service: &str, port: u16) -> Self {
        Self::Proxy {
            client,
            path: format!("/api/v1/namespaces/{namespace}/services/http:{service}:{port}/proxy"),
        }
    }

    /// A query API at `base` (the part before `/api/v1/query`).
    pub fn at(base: url::Url, tenant: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self::Url { http, base, tenant }
    }

    /// Where the queries go, for messages and the pull request.
    pub fn describe(&self) -> String {
        match self {
            Self::Proxy { path, .. } => format!("the API server's service proxy {path}"),
            Self::Url { base, .. } => base.to_string(),
        }
    }

    /// The instant vector `promql` evaluates to now.
    pub async fn query(&self, promql: &str) -> Result<Vec<Sample>, PrometheusError> {
        let at = self.describe();
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("query", promql)
            .finish();
        let body = match self {
            Self::Proxy { client, path } => {
                let request = http::Request::get(format!("{path}/api/v1/query?{encoded}"))
                    .body(Vec::new())
                    .map_err(|e| PrometheusError::Unreachable {
                        at: at.clone(),
                        reason: e.to_string(),
                    })?;
                let answer = tokio::time::timeout(TIMEOUT, client.request_text(request)).await;
                match answer {
                    Err(_) => {
                        return Err(PrometheusError::Unreachable {
                            at,
                            reason: format!("no answer within {}s", TIMEOUT.as_secs()),
                        });
                    }
                    Ok(Ok(text)) => text,
                    Ok(Err(kube::Error::Api(status))) => {
                        return Err(PrometheusError::Status {
                            at,
                            status: status.code,
                            body: excerpt(&status.message),
                        });
                    }
                    Ok(Err(e)) => {
                        return Err(PrometheusError::Unreachable {
                            at,
                            reason: e.to_string(),
                        });
                    }
                }
            }
            Self::Url { http, base, tenant } => {
                let mut url = base.clone();
                url.path_segments_mut()
                    .map_err(|()| PrometheusError::Unreachable {
                        at: at.clone(),
                        reason: "not a base URL".into(),
                    })?
                    .pop_if_empty()
                    .extend(["api", "v1", "query"]);
                url.set_query(Some(&encoded));
                let mut request = http.get(url);
                if let Some(tenant) = tenant {
                    request = request.header("X-Scope-OrgID", tenant);
                }
                let response = request.send().await.map_err(|e| PrometheusError::Unreachable {
                    at: at.clone(),
                    reason: e.to_string(),
                })?;
                let status = response.status();
                let text = response.text().await.map_err(|e| PrometheusError::Unreachable {
                    at: at.clone(),
                    reason: e.to_string(),
                })?;
                // Prometheus answers 400/422/503 with its JSON error; anything else is not it.
                if !status.is_success() && !matches!(status.as_u16(), 400 | 422 | 503) {
                    return Err(PrometheusError::Status {
                        at,
                        status: status.as_u16(),
                        body: excerpt(&text),
                    });
                }
                text
            }
        };
        parse(&at, &body)
    }
}

/// An instant vector out of a query API answer; anything else is an error, never a result.
fn parse(at: &str, body: &str) -> Result<Vec<Sample>, PrometheusError> {
    let garbage = |reason: String| PrometheusError::Garbage {
        at: at.into(),
        reason,
        body: excerpt(body),
    };
    let answer: Answer = serde_json::from_str(body).map_err(|e| garbage(e.to_string()))?;
    if answer.status != "success" {
        return Err(PrometheusError::Refused {
            at: at.into(),
            kind: answer.error_type,
            message: answer.error,
        });
    }
    let data = answer.data.ok_or_else(|| garbage("a success without data".into()))?;
    if data.result_type != "vector" {
        return Err(garbage(format!(
            "a {} where an instant vector belongs",
            data.result_type
        )));
    }
    data.result
        .into_iter()
        .map(|series| {
            let value = series
                .value
                .1
                .parse::<f64>()
                .map_err(|_| garbage(format!("the value \"{}\" is not a number", series.value.1)))?;
            Ok(Sample {
                labels: series.metric,
                value,
            })
        })
        .collect()
}

/// The start of an answer, on one line, for an error message.
fn excerpt(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_that_is_not_an_instant_vector_is_an_error_never_a_result() {
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"alertname":"X"},"value":[1.5,"NaN"]}]}}"#;
        let samples = parse("p", vector).expect("a vector");
        assert_eq!(samples[0].labels["alertname"], "X");
        assert!(samples[0].value.is_nan());
        for (body, want) in [
            ("<html>gateway</html>", "did not answer as Prometheus' query API does"),
            (
                r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
                "a matrix where",
            ),
            (r#"{"status":"success"}"#, "a success without data"),
            (
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"high"]}]}}"#,
                "\"high\" is not a number",
            ),
            (
                r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
                "refused the query (bad_data): parse error",
            ),
        ] {
            let error = parse("p", body).expect_err(body).to_string();
            assert!(error.contains(want), "{body}: {error}");
        }
    }
}
