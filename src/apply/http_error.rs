//! Network failures in plain words. reqwest's own text ("error sending request for url (…)")
//! hides the cause: the chain below it says whether the name did not resolve, the port
//! refused, TLS failed or the server did not answer in time.

/// What went wrong reaching `url`, classified from the error's cause chain.
pub fn describe(e: &reqwest::Error, url: &str) -> String {
    let chain = cause_chain(e);
    let lower = chain.to_lowercase();
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| url.to_owned());
    let class = if e.is_timeout() || lower.contains("timed out") {
        format!("{host} did not answer in time (timeout)")
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
        || lower.contains("no address associated")
    {
        format!("the host name {host} does not resolve (DNS)")
    } else if lower.contains("connection refused") {
        format!("{host} refused the connection (nothing listens on that port)")
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("unknownissuer")
    {
        format!("the TLS handshake with {host} failed (certificate or protocol)")
    } else if lower.contains("connection reset") || lower.contains("connection closed") {
        format!("{host} closed the connection")
    } else if e.is_connect() {
        format!("cannot connect to {host}")
    } else {
        format!("the request to {host} failed")
    };
    format!("{class}: {chain}")
}

/// The error's own text followed by each cause's, without repeats.
fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// `url` without user information, for messages and logs.
pub fn display_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn failure(url: &str) -> String {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .expect("client");
        let e = client.get(url).send().await.expect_err("fails");
        describe(&e, url)
    }

    #[tokio::test]
    async fn refused_and_unresolvable_hosts_are_named() {
        // A port nobody listens on: bind, learn the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let refused = failure(&format!("http://127.0.0.1:{port}/clover")).await;
        assert!(
            refused.starts_with("127.0.0.1 refused the connection"),
            "{refused}"
        );
        let dns = failure("http://no-such-host.invalid/clover").await;
        assert!(
            dns.starts_with("the host name no-such-host.invalid does not resolve"),
            "{dns}"
        );
    }

    #[test]
    fn user_information_is_stripped() {
        assert_eq!(
            display_url("https://admin:pw@clover.example.com/clover"),
            "https://clover.example.com/clover"
        );
    }
}
