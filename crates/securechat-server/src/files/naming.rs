//! Names and types of uploaded files, made safe to show and to serve.
//!
//! A name is only ever displayed and put in `Content-Disposition`; it never
//! becomes a path (blobs are stored under random keys). The served type is
//! decided from the bytes, never from what the uploader claimed: raster
//! images recognised by their magic numbers may be shown inline, everything
//! else is `application/octet-stream` and downloaded as an attachment.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Longest stored name, in bytes.
pub const MAX_NAME: usize = 255;

/// A display name: no control or path-separator characters, no leading or
/// trailing dots and spaces, at most [`MAX_NAME`] bytes, never empty.
pub fn sanitize_name(raw: &str) -> String {
    let mapped: String = raw
        .chars()
        .map(|c| match c {
            '/' | '\\' => '_',
            c if c.is_control() => '_',
            // Bidirectional overrides can disguise an extension.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '_',
            c => c,
        })
        .collect();
    let trimmed = mapped.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let mut name = String::with_capacity(trimmed.len().min(MAX_NAME));
    for c in trimmed.chars() {
        if name.len() + c.len_utf8() > MAX_NAME {
            break;
        }
        name.push(c);
    }
    if name.is_empty() {
        "file".to_owned()
    } else {
        name
    }
}

/// Characters kept as they are in the RFC 5987 `filename*` value.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` per RFC 6266: an ASCII fallback `filename` (quotes,
/// backslashes and non-ASCII replaced) and the exact name in `filename*`.
pub fn content_disposition(inline: bool, name: &str) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR_CHAR)
    )
}

/// The raster image type of `head` (a file's first bytes), if it is one we
/// let browsers show inline. SVG is deliberately not: it can carry script.
pub fn raster_image_type(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_be_paths_or_hide_characters() {
        assert_eq!(sanitize_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize_name("a\r\nb\0c.txt"), "a__b_c.txt");
        assert_eq!(sanitize_name("  ..  "), "file");
        assert_eq!(sanitize_name("report\u{202E}fdp.exe"), "report_fdp.exe");
        assert_eq!(sanitize_name("C:\\x.txt"), "C:_x.txt");
        let long = "é".repeat(300);
        let cut = sanitize_name(&long);
        assert!(cut.len() <= MAX_NAME && cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn disposition_has_a_safe_fallback_and_the_exact_name() {
        assert_eq!(
            content_disposition(false, "rapport \"final\" été.pdf"),
            "attachment; filename=\"rapport _final_ _t_.pdf\"; \
             filename*=UTF-8''rapport%20%22final%22%20%C3%A9t%C3%A9.pdf"
        );
        assert!(content_disposition(true, "a.png").starts_with("inline; "));
    }

    #[test]
    fn only_raster_images_are_recognised() {
        assert_eq!(
            raster_image_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(raster_image_type(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(raster_image_type(b"GIF89a"), Some("image/gif"));
        assert_eq!(
            raster_image_type(b"RIFF\0\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(raster_image_type(b"<svg xmlns="), None);
        assert_eq!(raster_image_type(b"<!DOCTYPE html>"), None);
        assert_eq!(raster_image_type(b""), None);
    }
}
