//! Turning an uploaded picture into avatars: sniffed by its bytes (PNG,
//! JPEG, WebP, GIF's first frame; nothing else), decoded under limits set
//! before a pixel is allocated, cropped square, resized and encoded again
//! as PNG. Encoding from pixels is what strips metadata: EXIF (GPS, camera,
//! time), XMP, ICC profiles and comments never reach the output.
//!
//! Decoding is CPU and memory heavy, so it runs on the blocking pool, at
//! most [`CONCURRENT`] at once: with [`MAX_ALLOC`] per decode, avatars can
//! never hold more than a bounded amount of memory however many arrive.

use std::io::Cursor;
use std::sync::LazyLock;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use tokio::sync::Semaphore;

use crate::error::Error;

/// Largest upload, in bytes, before decoding.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Widest and tallest picture accepted, in pixels.
pub const MAX_SIDE: u32 = 4096;
/// Most memory one decode may allocate, in bytes (a 4096×4096 RGBA picture).
pub const MAX_ALLOC: u64 = 64 * 1024 * 1024;
/// Decodes running at once on this node.
pub const CONCURRENT: usize = 2;
/// The renditions kept: the large one and the small one, in pixels.
pub const LARGE: u32 = 256;
pub const SMALL: u32 = 64;

static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(CONCURRENT));

/// An avatar's two renditions, PNG-encoded.
pub struct Renditions {
    pub large: Vec<u8>,
    pub small: Vec<u8>,
}

/// Decodes and resizes `bytes` off the async workers, waiting for one of
/// the [`CONCURRENT`] slots first.
pub async fn process(bytes: Vec<u8>) -> Result<Renditions, Error> {
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("avatar slots closed: {e}")))?;
    match tokio::task::spawn_blocking(move || renditions(&bytes)).await {
        Ok(done) => done,
        // A decoder that panics on hostile input refuses that input; the
        // process and the other uploads carry on.
        Err(e) if e.is_panic() => {
            tracing::warn!("an image decoder panicked on an avatar upload");
            Err(not_an_image())
        }
        Err(e) => Err(Error::Internal(anyhow::anyhow!("avatar task failed: {e}"))),
    }
}

fn too_large() -> Error {
    Error::unprocessable(
        "image_too_large",
        format!(
            "Avatars are limited to {MAX_SIDE}×{MAX_SIDE} pixels and {} MB decoded; scale the \
             picture down and upload it again",
            MAX_ALLOC / (1024 * 1024)
        ),
    )
}

fn not_an_image() -> Error {
    Error::unprocessable(
        "invalid_image",
        "This is not a picture the server can read: upload a PNG, JPEG, WebP or GIF",
    )
}

/// The renditions of `bytes` (pure; blocking).
pub fn renditions(bytes: &[u8]) -> Result<Renditions, Error> {
    let image = decode(bytes)?;
    Ok(Renditions {
        large: encode(&image.resize_to_fill(LARGE, LARGE, FilterType::Lanczos3))?,
        small: encode(&image.resize_to_fill(SMALL, SMALL, FilterType::Lanczos3))?,
    })
}

fn decode(bytes: &[u8]) -> Result<DynamicImage, Error> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| not_an_image())?;
    // Only the bytes decide the type, and only raster types are read.
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) => {}
        _ => {
            return Err(Error::UnsupportedMediaType {
                message: "Avatars must be PNG, JPEG, WebP or GIF pictures".into(),
            });
        }
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(refused)?;
    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE || decoder.total_bytes() > MAX_ALLOC {
        return Err(too_large());
    }
    if width == 0 || height == 0 {
        return Err(not_an_image());
    }
    // GIF: the first frame only.
    DynamicImage::from_decoder(decoder).map_err(refused)
}

fn refused(e: image::ImageError) -> Error {
    match e {
        image::ImageError::Limits(_) => too_large(),
        image::ImageError::Unsupported(_) => Error::UnsupportedMediaType {
            message: "This kind of picture is not supported: upload a PNG, JPEG, WebP or GIF"
                .into(),
        },
        _ => not_an_image(),
    }
}

fn encode(image: &DynamicImage) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    image
        .to_rgba8()
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| Error::Internal(anyhow::anyhow!("avatar encoding failed: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 10, 10]));
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_picture_becomes_two_square_pngs() {
        let r = renditions(&png(300, 200)).unwrap();
        for (bytes, side) in [(&r.large, LARGE), (&r.small, SMALL)] {
            let back = image::load_from_memory(bytes).unwrap();
            assert_eq!((back.width(), back.height()), (side, side));
            assert!(bytes.starts_with(b"\x89PNG"));
        }
    }

    #[test]
    fn huge_pictures_and_other_types_are_refused() {
        assert_eq!(
            renditions(&png(MAX_SIDE + 1, 1)).err().unwrap().status(),
            422
        );
        assert_eq!(
            renditions(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
                .err()
                .unwrap()
                .status(),
            415
        );
        assert_eq!(
            renditions(b"\x89PNG\r\n\x1a\nbroken")
                .err()
                .unwrap()
                .status(),
            422
        );
    }
}
