//! Connections, bodies and headers: stalled connections cannot take the server down, and pages are
//! framed only by the platforms that know the tool.
use std::{
    io::{Read, Write},
    time::{Duration, Instant},
};

use reqwest::StatusCode;

use crate::served::free_port;
use crate::{
    helpers::{Backend, TestDatabase, link_containing, spawn_app_with},
    registration::{invitation, open},
};

on_both_databases!(
    stalled_connections_do_not_keep_a_small_server_from_answering,
    pages_are_framed_only_by_registered_platforms_and_post_only_to_them,
    an_idle_keep_alive_connection_is_closed_before_the_header_deadline,
    a_client_pausing_in_a_long_download_is_not_taken_for_idle,
);

/// Kills the server process when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn healthz_answers(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

async fn stalled_connections_do_not_keep_a_small_server_from_answering(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let port = free_port();
    // The server as an operator might run it on a small VM: 256 file descriptors.
    let child = std::process::Command::new("bash")
        .args([
            "-c",
            "ulimit -n 256 && exec \"$0\" serve",
            env!("CARGO_BIN_EXE_coursebridge"),
        ])
        .env("COURSEBRIDGE_DATABASE_URL", &database.url)
        .env("COURSEBRIDGE_BIND", format!("127.0.0.1:{port}"))
        .env("COURSEBRIDGE_HEADER_READ_TIMEOUT_SECONDS", "2")
        .env("COURSEBRIDGE_MAX_CONNECTIONS", "200")
        .env("COURSEBRIDGE_GRADE_WORKER", "false")
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let _server = Server(child);
    let started = Instant::now();
    while !healthz_answers(port) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // 300 connections that start a request and never finish its headers.
    let mut stalled = Vec::new();
    for _ in 0..300 {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
            stalled.push(stream);
        }
    }
    assert!(stalled.len() >= 250, "{} connections opened", stalled.len());
    let opened = Instant::now();
    while !healthz_answers(port) {
        assert!(
            opened.elapsed() < Duration::from_secs(10),
            "healthz did not answer while stalled connections were open"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And the stalled ones were closed by the server, not left holding descriptors.
    let mut still_open = 0;
    for stream in &mut stalled {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut buffer = [0u8; 4096];
        let closed = loop {
            match stream.read(&mut buffer) {
                // A 408 answer may come before the close.
                Ok(0) => break true,
                Ok(_) => continue,
                Err(err) => break err.kind() == std::io::ErrorKind::ConnectionReset,
            }
        };
        if !closed {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "stalled connections the server kept open");
    assert!(healthz_answers(port));
}

/// Reads one response (headers and a `Content-Length` body) from a keep-alive connection.
fn read_response(stream: &mut std::net::TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 65536];
    loop {
        let read = stream.read(&mut buffer).unwrap();
        assert!(read > 0, "the connection closed before the response ended");
        received.extend_from_slice(&buffer[..read]);
        let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map(|value| value.trim().parse().unwrap())
            .unwrap();
        if received.len() >= end + 4 + length {
            return received;
        }
    }
}

/// Seconds until the server closes `stream`, which it must do within `limit`.
fn seconds_until_closed(stream: &mut std::net::TcpStream, limit: Duration) -> f64 {
    let waiting = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buffer = [0u8; 1024];
    match stream.read(&mut buffer) {
        Ok(0) => waiting.elapsed().as_secs_f64(),
        Ok(read) => panic!("{read} bytes arrived on an idle connection"),
        Err(err) => panic!("still open after {limit:?}: {err}"),
    }
}

async fn an_idle_keep_alive_connection_is_closed_before_the_header_deadline(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.header_read_timeout_seconds = 10;
        c.keep_alive_idle_seconds = 1;
    })
    .await;
    let address = (app.base.host_str().unwrap(), app.base.port().unwrap());
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    for _ in 0..2 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert!(read_response(&mut stream).starts_with(b"HTTP/1.1 200"));
    }
    let closed_after = tokio::task::spawn_blocking(move || {
        seconds_until_closed(&mut stream, Duration::from_secs(6))
    })
    .await
    .unwrap();
    assert!(
        (0.8..4.0).contains(&closed_after),
        "closed after {closed_after:.1} s"
    );
}

async fn a_client_pausing_in_a_long_download_is_not_taken_for_idle(backend: Backend) {
    const FILE_BYTES: usize = 8 * 1024 * 1024;
    let app = spawn_app_with(backend, |c| c.keep_alive_idle_seconds = 1).await;
    let mut files = coursebridge::course::demo_files();
    let toml = String::from_utf8(files["course.toml"].clone()).unwrap();
    files.insert(
        "course.toml".into(),
        toml.replacen("version = \"1.0.0\"", "version = \"1.0.3\"", 1)
            .into_bytes(),
    );
    files.insert("files/arbetsblad.txt".into(), vec![b'a'; FILE_BYTES]);
    coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &files.into(),
    )
    .await
    .unwrap();
    let launch = app
        .launch(coursebridge::devplatform::LaunchSpec::learner("pause-1"))
        .await;
    let module = app
        .get(&link_containing(
            &launch.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    let path = link_containing(&module.body, "/course/files/arbetsblad.txt?session=");
    let address = (app.base.host_str().unwrap(), app.base.port().unwrap());
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let received = tokio::task::spawn_blocking(move || {
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut received = stream.read(&mut buffer).unwrap();
        // The client stops reading for twice the idle limit, as a paused video does; the
        // server's writes wait on the full socket meanwhile.
        std::thread::sleep(Duration::from_secs(2));
        loop {
            match stream.read(&mut buffer).unwrap() {
                0 => break received,
                read => received += read,
            }
            if received > FILE_BYTES {
                // Headers and all of the body are here; the connection may stay open.
                stream
                    .set_read_timeout(Some(Duration::from_secs(3)))
                    .unwrap();
            }
        }
    });
    let received = match tokio::time::timeout(Duration::from_secs(10), received).await {
        Ok(joined) => joined.unwrap(),
        Err(_) => panic!("the download neither ended nor was closed"),
    };
    assert!(
        received > FILE_BYTES,
        "{received} bytes of a {FILE_BYTES}-byte download"
    );
}

fn csp(headers: &reqwest::header::HeaderMap) -> String {
    headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn pages_are_framed_only_by_registered_platforms_and_post_only_to_them(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.frame_ancestors = "https://umea.instructure.com".into()
    })
    .await;
    let page = app.get("/accessibility").await;
    let policy = csp(&page.headers);
    let platform = app.platform.url("").origin().ascii_serialization();
    assert!(
        policy.contains(&format!(
            "frame-ancestors 'self' {platform} https://umea.instructure.com"
        )),
        "{policy}"
    );
    assert!(
        policy.contains(&format!("form-action 'self' {platform}")),
        "{policy}"
    );
    let sources: Vec<&str> = policy
        .split(';')
        .flat_map(|directive| directive.split_whitespace())
        .collect();
    for wildcard in ["*", "https:", "http:"] {
        assert!(!sources.contains(&wildcard), "{policy}");
    }
    assert!(
        !page.headers.contains_key("strict-transport-security"),
        "plain http"
    );

    // A platform registered by invitation may frame the tool at once, from the host it
    // registered from too.
    let other = coursebridge::devplatform::DevPlatform::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        "framing-client",
        "framing-1",
        coursebridge::devplatform::ToolUrls::below(&app.base).unwrap(),
    )
    .await
    .unwrap();
    let mut elsewhere = other.url("");
    elsewhere.set_host(Some("localhost")).unwrap();
    let link = invitation(&app, "Umeå kommun", false).await;
    let done = open(
        &app,
        other
            .registration_url_from(
                &link,
                coursebridge::devplatform::Variant::Moodle,
                &elsewhere,
            )
            .as_str(),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let policy = csp(&app.get("/accessibility").await.headers);
    assert!(
        policy.contains(&other.url("").origin().ascii_serialization()),
        "{policy}"
    );
    assert!(
        policy.contains(&elsewhere.origin().ascii_serialization()),
        "{policy}"
    );

    // A config with an entry that is not an origin does not start.
    let mut config = app.config.clone();
    config.frame_ancestors = "umea.instructure.com *".into();
    assert!(config.validate().is_err());

    // HSTS when the public URL is https.
    let port = free_port();
    let secure = spawn_app_with(backend, |c| {
        c.bind = format!("127.0.0.1:{port}").parse().unwrap();
        c.public_url = Some("https://kurs.example.se/".parse().unwrap());
    })
    .await;
    let answer = secure
        .client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}
