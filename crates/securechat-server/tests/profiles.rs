//! Profiles against the real binary, on every configured storage backend:
//! avatars resized and stripped of metadata, huge pictures and
//! decompression bombs refused with memory bounded, only the owner changes
//! an avatar and only signed-in people see it; display names and statuses
//! validated, and `profile_updated` reaching those who share a room and no
//! one else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::io::Cursor;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::{
    Server, api_client, backends, call, connect, new_user, next_event, no_event, peak_rss_kib,
    room_and_channel, rss_kib, token,
};

async fn put_avatar(server: &Server, token: Option<&str>, bytes: Vec<u8>) -> (u16, Value) {
    let mut request = api_client()
        .put(server.url("/api/users/me/avatar"))
        .header("content-type", "image/png")
        .body(bytes);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// GETs `path` as `token`: status, headers, bytes.
async fn get_bytes(
    server: &Server,
    token: Option<&str>,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = api_client().get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// A raw `PUT /api/users/me/avatar`: with `declared`, that Content-Length
/// and no body; otherwise `chunked` bytes of garbage, chunked, while the
/// answer is read (the server may answer and close before the end).
async fn raw_put(
    server: &Server,
    token: &str,
    declared: Option<usize>,
    chunked: usize,
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let length = match declared {
        Some(n) => format!("Content-Length: {n}"),
        None => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "PUT /api/users/me/avatar HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: image/png\r\n{length}\r\n\
         Connection: close\r\n\r\n",
        server.port
    );
    let (mut read, mut write) = stream.into_split();
    write.write_all(head.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        let chunk = vec![0x89u8; 1 << 20];
        let mut sent = 0;
        while sent < chunked {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if write.write_all(&framed).await.is_err() {
                return;
            }
            sent += chunk.len();
        }
        let _ = write.write_all(b"0\r\n\r\n").await;
    });
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), read.read_to_end(&mut response)).await;
    writer.abort();
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b.trim()).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A JPEG carrying an EXIF segment with GPS tags' names in it.
fn jpeg_with_exif() -> Vec<u8> {
    let image = image::RgbImage::from_pixel(400, 300, image::Rgb([10, 120, 200]));
    let mut plain = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Jpeg)
        .unwrap();
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08GPSLatitude 48.8584 GPSLongitude 2.2945".to_vec();
    exif.resize(64, 0);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    assert!(
        image::load_from_memory(&out).is_ok(),
        "the test JPEG is valid"
    );
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A whole, valid PNG of `width`×`height` black pixels (`color` 0: gray,
/// 6: RGBA; `depth` bits per sample), small on disk: every row is the same
/// deflate block (the compressor reset between rows), so the file holds
/// one compressed row per row, never the pixels.
fn black_png(width: u32, height: u32, color: u8, depth: u8) -> Vec<u8> {
    let channels: usize = if color == 6 { 4 } else { 1 };
    let row_len = 1 + width as usize * channels * usize::from(depth) / 8;
    let row = vec![0u8; row_len];
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(row_len);
    compress
        .compress_vec(&row, &mut block, flate2::FlushCompress::Full)
        .unwrap();
    assert_eq!(compress.total_in() as usize, row_len);
    let mut idat = vec![0x78, 0xDA];
    for _ in 0..height {
        idat.extend_from_slice(&block);
    }
    idat.extend_from_slice(&[0x03, 0x00]); // the final, empty block
    // Adler-32 of all-zero data: a stays 1, b adds 1 per byte.
    let total = row_len as u64 * u64::from(height);
    let b = u32::try_from(total % 65521).unwrap();
    idat.extend_from_slice(&((b << 16) | 1).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn the_black_png_helper_makes_valid_pngs() {
    let small = image::load_from_memory(&black_png(300, 200, 0, 8)).unwrap();
    assert_eq!((small.width(), small.height()), (300, 200));
}

#[tokio::test]
async fn avatars_are_resized_stripped_and_served_to_signed_in_people() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (alice_id, _) = {
            let (_, me) = call(&server, Some(&alice), "GET", "/api/auth/me", None).await;
            (me["user"]["id"].as_i64().unwrap(), ())
        };
        let (_, stranger) = new_user(&server, "stranger").await;

        let (s, body) = put_avatar(&server, Some(&alice), png(300, 200)).await;
        assert_eq!(s, 200, "{body}");
        let url = body["profile"]["avatar_url"].as_str().unwrap().to_owned();
        assert!(url.starts_with(&format!("/api/users/{alice_id}/avatar?v=")));

        // Bob shares a room with her: both sizes, square, cached for good.
        let (s, headers, bytes) = get_bytes(&server, Some(&bob), &url).await;
        assert_eq!(s, 200);
        assert_eq!(headers["content-type"], "image/png");
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let back = image::load_from_memory(&bytes).unwrap();
        assert_eq!((back.width(), back.height()), (256, 256));
        let (s, _, small) = get_bytes(&server, Some(&bob), &format!("{url}&size=64")).await;
        assert_eq!(s, 200);
        let small = image::load_from_memory(&small).unwrap();
        assert_eq!((small.width(), small.height()), (64, 64));
        // The ETag answers a revalidation with 304.
        let etag = headers["etag"].to_str().unwrap().to_owned();
        let response = api_client()
            .get(server.url(&url))
            .bearer_auth(&bob)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 304);

        // Signed out: nothing. A stranger: no such user.
        let (s, _, _) = get_bytes(&server, None, &url).await;
        assert_eq!(s, 401);
        let (s, _, _) = get_bytes(&server, Some(&stranger), &url).await;
        assert_eq!(s, 404);
        // Nobody changes someone else's avatar: the upload sets the uploader's own.
        let (s, _) = put_avatar(&server, None, png(10, 10)).await;
        assert_eq!(s, 401);
        let (s, _) = call(
            &server,
            Some(&bob),
            "PUT",
            &format!("/api/users/{alice_id}/avatar"),
            None,
        )
        .await;
        assert!(s == 404 || s == 405, "{s}");
        let (_, headers2, bytes2) = get_bytes(&server, Some(&bob), &url).await;
        assert_eq!(headers2["etag"], headers["etag"]);
        assert_eq!(bytes2, bytes);

        // A JPEG with EXIF comes back as a PNG without any of it.
        let (s, body) = put_avatar(&server, Some(&alice), jpeg_with_exif()).await;
        assert_eq!(s, 200, "{body}");
        let new_url = body["profile"]["avatar_url"].as_str().unwrap().to_owned();
        assert_ne!(new_url, url, "a new version, a new URL");
        let (s, _, bytes) = get_bytes(&server, Some(&bob), &new_url).await;
        assert_eq!(s, 200);
        assert!(bytes.starts_with(b"\x89PNG"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("Exif") && !text.contains("GPS"));
        for kind in [b"eXIf", b"tEXt", b"iTXt", b"zTXt"] {
            assert!(!bytes.windows(4).any(|w| w == kind));
        }
        let back = image::load_from_memory(&bytes).unwrap();
        assert_eq!((back.width(), back.height()), (256, 256));
        // The old version is gone.
        let (s, _, _) = get_bytes(&server, Some(&bob), &url).await;
        assert_eq!(s, 200, "the URL still answers, with the current picture");

        // Deleting it.
        let (s, body) = call(
            &server,
            Some(&alice),
            "DELETE",
            "/api/users/me/avatar",
            None,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["profile"]["avatar_url"], Value::Null);
        let (s, _, _) = get_bytes(&server, Some(&bob), &new_url).await;
        assert_eq!(s, 404);
    }
}

#[tokio::test]
async fn huge_pictures_bombs_and_non_images_are_refused_with_memory_bounded() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let baseline = rss_kib(server.pid());

        // 10,000×10,000: a real PNG, small on disk.
        let huge = black_png(10_000, 10_000, 0, 8);
        assert!(huge.len() < 2 * 1024 * 1024, "{} bytes", huge.len());
        let (s, body) = put_avatar(&server, Some(&alice), huge).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("image_too_large")),
            "{body}"
        );
        assert!(body["message"].as_str().unwrap().contains("4096"));

        // A bomb within the sides but not the memory: 4096×4096 RGBA, 16 bits.
        let bomb = black_png(4096, 4096, 6, 16);
        let (s, body) = put_avatar(&server, Some(&alice), bomb).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("image_too_large")),
            "{body}"
        );
        // A header claiming 60,000×60,000 over a few bytes of data.
        let mut liar = black_png(4, 4, 0, 8);
        liar[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        liar[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let (s, body) = put_avatar(&server, Some(&alice), liar).await;
        assert!(s == 422 || s == 415, "{s} {body}");
        // The largest allowed picture decodes, within the bound.
        let (s, body) = put_avatar(&server, Some(&alice), black_png(4096, 4096, 0, 8)).await;
        assert_eq!(s, 200, "{body}");

        // Not an image; an SVG; a body over 10 MB.
        let (s, body) = put_avatar(&server, Some(&alice), b"hello, world".to_vec()).await;
        assert_eq!(s, 415, "{body}");
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        let (s, _) = put_avatar(&server, Some(&alice), svg.to_vec()).await;
        assert_eq!(s, 415);
        // Over 10 MB: refused on the declared length before the body, and
        // without one once 10 MB have passed.
        let (s, body) = raw_put(&server, &alice, Some(11 << 20), 0).await;
        assert_eq!(s, 413, "{body}");
        assert!(body["message"].as_str().unwrap().contains("10 MB"));
        let (s, body) = raw_put(&server, &alice, None, 64 << 20).await;
        assert_eq!(s, 413, "{body}");
        let mut truncated = png(100, 100);
        truncated.truncate(truncated.len() / 2);
        let (s, body) = put_avatar(&server, Some(&alice), truncated).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("invalid_image")),
            "{body}"
        );

        let peak = peak_rss_kib(server.pid());
        assert!(
            peak.saturating_sub(baseline) < 200 * 1024,
            "peak {peak} KiB from {baseline} KiB"
        );
    }
}

#[tokio::test]
async fn profiles_are_validated_and_pushed_to_those_who_share_a_room() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (stranger_id, stranger) = new_user(&server, "stranger").await;
        let (_a, _a_events) = connect(&server, &alice).await;
        let (_b, mut b_events) = connect(&server, &bob).await;
        let (_s, mut s_events) = connect(&server, &stranger).await;

        let expires = testkit_now_ms() + 3_600_000;
        let (s, body) = call(
            &server,
            Some(&alice),
            "PATCH",
            "/api/users/me/profile",
            Some(
                json!({"display_name": "  Ａlice Liddell ", "status_text": "In Wonderland",
                "status_emoji": "🐇", "status_expires_at": expires,
                "availability": "do_not_disturb"}),
            ),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        let p = &body["profile"];
        assert_eq!(p["display_name"], "Alice Liddell", "NFKC and trimmed");
        assert_eq!(p["status"]["text"], "In Wonderland");
        assert_eq!(p["status"]["emoji"], "🐇");
        assert_eq!(p["status"]["expires_at"], expires);
        assert_eq!(p["availability"], "do_not_disturb");

        let event = next_event(&mut b_events, "profile_updated").await;
        assert_eq!(event["display_name"], "Alice Liddell");
        // Wherever she is listed: /api/auth/me and the members of a shared room.
        let (_, me) = call(&server, Some(&alice), "GET", "/api/auth/me", None).await;
        assert_eq!(me["profile"]["display_name"], "Alice Liddell");
        let (project, _) = room_and_channel(&server, &bob, "Project X", "general").await;
        let (s, list) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/rooms/{project}/members"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{list}");
        let listed = list["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["username"] == "alice")
            .unwrap();
        assert_eq!(listed["profile"]["status"]["emoji"], "🐇");
        no_event(&mut s_events, "profile_updated", Duration::from_millis(800)).await;

        // Bob reads it; the stranger may not.
        let alice_id = p["user_id"].as_i64().unwrap();
        let path = format!("/api/users/{alice_id}/profile");
        let (s, body) = call(&server, Some(&bob), "GET", &path, None).await;
        assert_eq!(
            (s, &body["profile"]["availability"]),
            (200, &json!("do_not_disturb"))
        );
        let (s, _) = call(&server, Some(&stranger), "GET", &path, None).await;
        assert_eq!(s, 404);
        // The stranger's own change reaches no one else.
        let (s, _) = call(
            &server,
            Some(&stranger),
            "PATCH",
            "/api/users/me/profile",
            Some(json!({"display_name": "Nobody"})),
        )
        .await;
        assert_eq!(s, 200);
        let mine = next_event(&mut s_events, "profile_updated").await;
        assert_eq!(mine["user_id"], stranger_id);
        no_event(&mut b_events, "profile_updated", Duration::from_millis(800)).await;

        // A partial change keeps the rest; null clears.
        let (_, body) = call(
            &server,
            Some(&alice),
            "PATCH",
            "/api/users/me/profile",
            Some(json!({"status_text": null, "status_emoji": null})),
        )
        .await;
        assert_eq!(body["profile"]["status"], Value::Null);
        assert_eq!(body["profile"]["display_name"], "Alice Liddell");

        // Refusals.
        for (change, code) in [
            (
                json!({"display_name": "x".repeat(65)}),
                "invalid_display_name",
            ),
            (json!({"display_name": "a\u{7}b"}), "invalid_display_name"),
            (
                json!({"display_name": "evil\u{202E}gpj"}),
                "invalid_display_name",
            ),
            (
                json!({"display_name": "line\nbreak"}),
                "invalid_display_name",
            ),
            (json!({"status_text": "s".repeat(141)}), "invalid_status"),
            (json!({"status_emoji": "a b"}), "invalid_status_emoji"),
            (
                json!({"status_text": "x", "status_expires_at": 1}),
                "invalid_status_expiry",
            ),
        ] {
            let (s, body) = call(
                &server,
                Some(&alice),
                "PATCH",
                "/api/users/me/profile",
                Some(change.clone()),
            )
            .await;
            assert_eq!(
                (s, body["code"].as_str()),
                (422, Some(code)),
                "{change}: {body}"
            );
        }
        let (s, _) = call(
            &server,
            Some(&alice),
            "PATCH",
            "/api/users/me/profile",
            Some(json!({"availability": "asleep"})),
        )
        .await;
        assert_eq!(s, 422);
        let (s, _) = call(
            &server,
            None,
            "PATCH",
            "/api/users/me/profile",
            Some(json!({})),
        )
        .await;
        assert_eq!(s, 401);
    }
}

fn testkit_now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}
