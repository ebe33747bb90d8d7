//! Blocking HTTP with `ureq`: release downloads, `/health` and API-key probes.

use std::io::{Read, Write};
use std::time::Duration;

use crate::error::{CliError, Result};

/// A blocking HTTP client with connect and read timeouts; HTTP error statuses are responses,
/// not errors, so each caller words its own message.
pub(crate) fn agent(connect_timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(connect_timeout))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_recv_body(Some(Duration::from_secs(600)))
        .http_status_as_error(false)
        .user_agent(concat!("instant-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// A client for quick probes (`/health`, the API key): the whole request must finish within
/// `timeout`, so a server that accepts connections but never answers cannot stall the caller.
pub(crate) fn probe_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("instant-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn unreachable(url: &str, err: &ureq::Error) -> CliError {
    CliError::Unreachable {
        url: url.to_owned(),
        reason: describe(err),
    }
}

/// A short, one-line description of a transport error.
fn describe(err: &ureq::Error) -> String {
    err.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// GETs `url`; any status other than 200 is an error.
fn get_ok(agent: &ureq::Agent, url: &str) -> Result<ureq::http::Response<ureq::Body>> {
    let response = agent
        .get(url)
        .call()
        .map_err(|err| unreachable(url, &err))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(CliError::HttpStatus {
            url: url.to_owned(),
            status,
        });
    }
    Ok(response)
}

/// GETs `url` and returns its body as text (at most 1 MiB).
pub(crate) fn get_text(agent: &ureq::Agent, url: &str) -> Result<String> {
    let mut response = get_ok(agent, url)?;
    response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|err| CliError::Download {
            url: url.to_owned(),
            reason: describe(&err),
        })
}

/// GETs `url` into `sink`, calling `progress` with the total (when known) and then each chunk's size.
pub(crate) fn download(
    agent: &ureq::Agent,
    url: &str,
    sink: &mut impl Write,
    mut progress: impl FnMut(Option<u64>, u64),
) -> Result<u64> {
    let mut response = get_ok(agent, url)?;
    let total = response.body().content_length();
    progress(total, 0);
    let mut reader = response.body_mut().as_reader();
    let mut buffer = vec![0_u8; 64 * 1024];
    let mut received: u64 = 0;
    loop {
        let read = reader.read(&mut buffer).map_err(|err| CliError::Download {
            url: url.to_owned(),
            reason: err.to_string(),
        })?;
        if read == 0 {
            break;
        }
        sink.write_all(&buffer[..read])
            .map_err(|err| CliError::Download {
                url: url.to_owned(),
                reason: format!("cannot write the download: {err}"),
            })?;
        received += read as u64;
        progress(total, read as u64);
    }
    if let Some(total) = total
        && received != total
    {
        return Err(CliError::Download {
            url: url.to_owned(),
            reason: format!("received {received} of {total} bytes"),
        });
    }
    Ok(received)
}

/// Whether `GET <base>/health` answers 200.
pub(crate) fn healthy(agent: &ureq::Agent, base_url: &str) -> std::result::Result<(), String> {
    let url = format!("{}/health", base_url.trim_end_matches('/'));
    match agent.get(&url).call() {
        Ok(response) if response.status().as_u16() == 200 => Ok(()),
        Ok(response) => Err(format!(
            "{url} answered HTTP {}",
            response.status().as_u16()
        )),
        Err(err) => Err(format!("cannot reach {url}: {}", describe(&err))),
    }
}

/// What Centrifugo's API said about an API key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KeyCheck {
    /// `POST /api/info` succeeded.
    Accepted,
    /// 401: the key does not match `http_api.key`.
    Rejected,
    /// Another answer, or no answer.
    Failed(String),
}

/// Calls `POST <base>/api/info` with the key, the cheapest authenticated call.
pub(crate) fn check_api_key(agent: &ureq::Agent, base_url: &str, key: &str) -> KeyCheck {
    let url = format!("{}/api/info", base_url.trim_end_matches('/'));
    match agent
        .post(&url)
        .header("X-API-Key", key)
        .header("Content-Type", "application/json")
        .send("{}")
    {
        Ok(response) if response.status().as_u16() == 200 => KeyCheck::Accepted,
        Ok(response) if response.status().as_u16() == 401 => KeyCheck::Rejected,
        Ok(response) => KeyCheck::Failed(format!(
            "{url} answered HTTP {}",
            response.status().as_u16()
        )),
        Err(err) => KeyCheck::Failed(format!("cannot reach {url}: {}", describe(&err))),
    }
}
