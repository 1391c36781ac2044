//! The HTTP client connectors fetch with: timeouts, a per-registry rate limit, and retries
//! with exponential back-off and jitter that honour `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

use crate::FetchError;

/// How politely and persistently to fetch from one registry.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// Time allowed for one request, body included.
    pub timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First back-off delay; doubles per attempt, with jitter.
    pub min_backoff: Duration,
    /// Longest back-off delay.
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured; a registry asking for more is asked again after this.
    pub max_retry_after: Duration,
    /// Requests per second at most, shared by every request to this registry.
    pub requests_per_second: NonZeroU32,
    /// The `User-Agent` header; some registries' firewalls refuse unknown agents.
    pub user_agent: String,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_attempts: 5,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
            requests_per_second: NonZeroU32::MIN.saturating_add(1),
            user_agent: concat!("carbonmesh/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// A request to a registry: GET, or POST with a JSON or form body, plus headers.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Body>,
}

#[derive(Debug, Clone)]
enum Body {
    Json(serde_json::Value),
    Form(Vec<(String, String)>),
}

impl Request {
    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// `POST url` with a JSON body.
    pub fn post_json(url: impl Into<String>, body: serde_json::Value) -> Self {
        Self {
            method: Method::POST,
            body: Some(Body::Json(body)),
            ..Self::get(url)
        }
    }

    /// `POST url` with an `application/x-www-form-urlencoded` body.
    pub fn post_form(url: impl Into<String>, fields: Vec<(String, String)>) -> Self {
        Self {
            method: Method::POST,
            body: Some(Body::Form(fields)),
            ..Self::get(url)
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Response headers (totals, cursors and tokens travel in some registries' headers).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One registry's HTTP client. Cheap to clone; clones share the rate limit.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    limiter: Arc<DefaultDirectRateLimiter>,
    policy: HttpPolicy,
}

/// The outcome of one attempt that did not succeed.
#[derive(Debug)]
enum Attempt {
    /// Worth trying again, after `retry_after` if the registry said so.
    Retry {
        status: Option<u16>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Trying again will not help (a 4xx other than 408 and 429).
    Fatal { status: u16 },
}

/// The wait a `Retry-After` value asks for from `now`: seconds, or an HTTP date (RFC 9110
/// section 10.2.3; a date already past asks for none).
fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

impl HttpClient {
    /// A client following `policy`.
    pub fn new(policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            .user_agent(policy.user_agent.clone())
            .build()?;
        // No bursts: requests are spaced evenly, which is what "n per second" means to a
        // registry's rate limiter.
        let quota = Quota::per_second(policy.requests_per_second).allow_burst(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::direct(quota));
        Ok(Self {
            client,
            limiter,
            policy,
        })
    }

    /// GETs `url` and returns the whole body, retrying what is worth retrying.
    pub async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        Ok(self.send(&Request::get(url)).await?.body)
    }

    /// Sends `request`, retrying what is worth retrying, and returns the whole response.
    pub async fn send(&self, request: &Request) -> Result<Response, FetchError> {
        let url = request.url.as_str();
        let attempts = AtomicU32::new(0);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_backoff)
            .with_max_delay(self.policy.max_backoff)
            .with_max_times(self.policy.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        let max_retry_after = self.policy.max_retry_after;
        let result = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(request).await
        })
        .retry(backoff)
        .when(|e| matches!(e, Attempt::Retry { .. }))
        .adjust(move |e, delay| match (e, delay) {
            // The registry knows best when it can take us again; honour it up to a limit.
            // `None` means the attempts are used up: keep it so, or retries never end.
            (
                Attempt::Retry {
                    retry_after: Some(wait),
                    ..
                },
                Some(delay),
            ) => Some((*wait).min(max_retry_after).max(delay)),
            (_, delay) => delay,
        })
        .notify(|e, delay| match e {
            Attempt::Retry {
                status, message, ..
            } => tracing::warn!(
                url,
                status = *status,
                %message,
                wait_ms = delay.as_millis() as u64,
                "request failed; retrying"
            ),
            Attempt::Fatal { .. } => {}
        })
        .await;
        let attempts = attempts.load(Ordering::Relaxed);
        result.map_err(|e| match e {
            Attempt::Fatal { status } => FetchError::Status {
                url: url.to_owned(),
                status,
                attempts,
            },
            Attempt::Retry {
                status: Some(status),
                ..
            } => FetchError::Status {
                url: url.to_owned(),
                status,
                attempts,
            },
            Attempt::Retry { message, .. } => FetchError::Transport {
                url: url.to_owned(),
                message,
                attempts,
            },
        })
    }

    /// GETs `url` and parses the body as JSON.
    pub async fn get_json(&self, url: &str) -> Result<serde_json::Value, FetchError> {
        let body = self.get(url).await?;
        serde_json::from_slice(&body).map_err(|e| FetchError::Malformed {
            url: url.to_owned(),
            reason: format!("response is not valid JSON: {e}"),
        })
    }

    async fn attempt(&self, request: &Request) -> Result<Response, Attempt> {
        // The registry's rate limit: a wait worth an operator's notice is logged.
        let waited = std::time::Instant::now();
        self.limiter.until_ready().await;
        let waited = waited.elapsed();
        if waited >= Duration::from_millis(250) {
            tracing::debug!(
                url = %request.url,
                wait_ms = waited.as_millis() as u64,
                "waited for the registry's rate limit"
            );
        }
        let mut builder = self.client.request(request.method.clone(), &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        builder = match &request.body {
            Some(Body::Json(value)) => builder.json(value),
            Some(Body::Form(fields)) => builder.form(fields),
            None => builder,
        };
        let response = builder.send().await.map_err(|e| transport(&e))?;
        let status = response.status();
        if status.is_success() {
            let headers = response.headers().clone();
            // A body cut off mid-way (connection reset, timeout) is worth another try.
            let body = response.bytes().await.map_err(|e| transport(&e))?;
            return Ok(Response {
                headers,
                body: body.to_vec(),
            });
        }
        if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error()
        {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, std::time::SystemTime::now()));
            return Err(Attempt::Retry {
                status: Some(status.as_u16()),
                message: format!("HTTP {status}"),
                retry_after,
            });
        }
        Err(Attempt::Fatal {
            status: status.as_u16(),
        })
    }
}

fn transport(error: &reqwest::Error) -> Attempt {
    let message = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        format!("transfer failed: {error}")
    };
    Attempt::Retry {
        status: None,
        message,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;

    use super::*;

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date() {
        // Wed, 21 Oct 2026 07:28:00 GMT
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_792_567_680);
        assert_eq!(retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2026 07:29:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date already past"
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-5", now), None);
    }

    /// A loopback server answering `/flaky` with `fail` errors (429 with Retry-After: 1, then
    /// 503) before a success, `/missing` with 404, and counting calls.
    async fn server(fail: usize) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let app = Router::new()
            .route(
                "/flaky",
                get(move || {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let mut headers = HeaderMap::new();
                        if n >= fail {
                            return (StatusCode::OK, headers, "done");
                        }
                        if n == 0 {
                            headers.insert("retry-after", "1".parse().expect("header"));
                            return (StatusCode::TOO_MANY_REQUESTS, headers, "slow down");
                        }
                        (StatusCode::SERVICE_UNAVAILABLE, headers, "down")
                    }
                }),
            )
            .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
            .route(
                "/echo",
                axum::routing::post(|headers: HeaderMap, body: String| async move {
                    let kind = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let token = headers
                        .get("x-token")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    ([("x-total-count", "42")], format!("{kind}|{token}|{body}"))
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{address}"), calls)
    }

    fn fast_policy() -> HttpPolicy {
        HttpPolicy {
            timeout: Duration::from_secs(5),
            max_attempts: 4,
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(2),
            requests_per_second: NonZeroU32::new(1000).expect("non-zero"),
            ..HttpPolicy::default()
        }
    }

    #[tokio::test]
    async fn retries_429_and_5xx_honouring_retry_after() {
        let (base, calls) = server(3).await;
        let client = HttpClient::new(fast_policy()).expect("client");
        let started = std::time::Instant::now();
        let body = client
            .get(&format!("{base}/flaky"))
            .await
            .expect("succeeds");
        assert_eq!(body, b"done");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "waited for Retry-After"
        );
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_with_the_last_status() {
        let (base, calls) = server(usize::MAX).await;
        let client = HttpClient::new(fast_policy()).expect("client");
        let error = client
            .get(&format!("{base}/flaky"))
            .await
            .expect_err("fails");
        assert!(
            matches!(
                error,
                FetchError::Status {
                    status: 503,
                    attempts: 4,
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_registry_that_keeps_answering_429_is_given_up_on() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let app = Router::new().route(
            "/busy",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "0")],
                        "slow down",
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = HttpClient::new(fast_policy()).expect("client");
        let error = tokio::time::timeout(
            Duration::from_secs(10),
            client.get(&format!("http://{address}/busy")),
        )
        .await
        .expect("gives up instead of retrying forever")
        .expect_err("fails");
        assert!(
            matches!(
                error,
                FetchError::Status {
                    status: 429,
                    attempts: 4,
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn does_not_retry_a_404_and_reports_unreachable_hosts() {
        let (base, _) = server(0).await;
        let client = HttpClient::new(fast_policy()).expect("client");
        let error = client
            .get(&format!("{base}/missing"))
            .await
            .expect_err("404");
        assert!(
            matches!(
                error,
                FetchError::Status {
                    status: 404,
                    attempts: 1,
                    ..
                }
            ),
            "{error}"
        );

        // A port nothing listens on: a transport error after every attempt.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("address").port()
        };
        let error = client
            .get(&format!("http://127.0.0.1:{closed}/x"))
            .await
            .expect_err("refused");
        assert!(
            matches!(error, FetchError::Transport { attempts: 4, .. }),
            "{error}"
        );
    }

    #[tokio::test]
    async fn posts_json_and_forms_with_headers_and_returns_response_headers() {
        let (base, _) = server(0).await;
        let client = HttpClient::new(fast_policy()).expect("client");
        let json = Request::post_json(format!("{base}/echo"), serde_json::json!({"start": 0}))
            .header("x-token", "t1");
        let response = client.send(&json).await.expect("post");
        assert_eq!(
            String::from_utf8_lossy(&response.body),
            "application/json|t1|{\"start\":0}"
        );
        assert_eq!(response.header("x-total-count"), Some("42"));
        let form = Request::post_form(
            format!("{base}/echo"),
            vec![
                ("offset".into(), "0".into()),
                ("status".into(), "ISSUED".into()),
            ],
        );
        let response = client.send(&form).await.expect("post");
        assert_eq!(
            String::from_utf8_lossy(&response.body),
            "application/x-www-form-urlencoded||offset=0&status=ISSUED"
        );
    }

    #[tokio::test]
    async fn the_rate_limit_spaces_requests() {
        let (base, _) = server(0).await;
        let policy = HttpPolicy {
            requests_per_second: NonZeroU32::new(10).expect("non-zero"),
            ..fast_policy()
        };
        let client = HttpClient::new(policy).expect("client");
        let started = std::time::Instant::now();
        for _ in 0..6 {
            client.get(&format!("{base}/flaky")).await.expect("ok");
        }
        // The first request passes at once, the next five wait ~100 ms each.
        assert!(
            started.elapsed() >= Duration::from_millis(450),
            "{:?}",
            started.elapsed()
        );
    }
}
