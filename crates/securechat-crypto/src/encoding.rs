//! Strict binary encoding and the base64url wire form.
//!
//! Every object is `tag (u8) || version (u8) || fields…`, integers big-endian,
//! fixed-size keys raw. Parsing is strict: wrong tag, unknown version,
//! truncation and trailing bytes are all errors, so one object has exactly one
//! encoding and a signature over it covers everything a reader acts on.
//! On the wire (JSON fields, Socket.IO payloads) objects travel as unpadded
//! base64url strings; padded or non-canonical base64 is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, ObjectKind, Result};
use crate::labels::FORMAT_V1;

/// Encodes bytes as unpadded base64url, the wire form of every object.
pub fn to_wire(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes an unpadded base64url wire string.
pub fn from_wire(s: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).map_err(|_| Error::InvalidBase64)
}

/// Appends fields to a byte buffer.
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// Starts an object with its type tag and the current format version.
    pub(crate) fn new(tag: u8) -> Self {
        Self::with_version(tag, FORMAT_V1)
    }

    /// Starts an object with its type tag and a given format version (for
    /// objects that have more than one).
    pub(crate) fn with_version(tag: u8, version: u8) -> Self {
        Writer {
            buf: vec![tag, version],
        }
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn i64(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads fields from a byte slice, failing (never panicking) on short input.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    kind: ObjectKind,
}

impl<'a> Reader<'a> {
    /// Checks the type tag and format version, and positions after them.
    pub(crate) fn open(bytes: &'a [u8], tag: u8, kind: ObjectKind) -> Result<Self> {
        Ok(Self::open_versions(bytes, tag, kind, &[FORMAT_V1])?.0)
    }

    /// [`Reader::open`] for an object with several format versions: returns
    /// the reader and the version found, one of `versions`.
    pub(crate) fn open_versions(
        bytes: &'a [u8],
        tag: u8,
        kind: ObjectKind,
        versions: &[u8],
    ) -> Result<(Self, u8)> {
        let mut r = Reader { rest: bytes, kind };
        let found = r.u8()?;
        if found != tag {
            return Err(Error::WrongObjectType {
                expected: kind,
                found,
            });
        }
        let version = r.u8()?;
        if !versions.contains(&version) {
            return Err(Error::UnsupportedVersion {
                object: kind,
                version,
            });
        }
        Ok((r, version))
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(Error::Truncated(self.kind));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// How many bytes are left.
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Requires that the object ended exactly here.
    pub(crate) fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingBytes(self.kind))
        }
    }

    /// An error about a field of this object.
    pub(crate) fn invalid(&self, reason: &'static str) -> Error {
        Error::InvalidField {
            object: self.kind,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_is_strict_base64url() {
        assert_eq!(to_wire(&[0xfb, 0xff]), "-_8");
        assert_eq!(from_wire("-_8").ok(), Some(vec![0xfb, 0xff]));
        assert_eq!(from_wire("-_8="), Err(Error::InvalidBase64));
        assert_eq!(from_wire("+/8"), Err(Error::InvalidBase64));
        // Non-canonical trailing bits are refused, so one object has one string.
        assert_eq!(from_wire("-_9"), Err(Error::InvalidBase64));
    }

    #[test]
    fn reader_rejects_wrong_tag_version_and_trailing() {
        let kind = ObjectKind::Bundle;
        assert!(matches!(
            Reader::open(&[2, 1], 1, kind),
            Err(Error::WrongObjectType { found: 2, .. })
        ));
        assert!(matches!(
            Reader::open(&[1, 2], 1, kind),
            Err(Error::UnsupportedVersion { version: 2, .. })
        ));
        assert!(matches!(
            Reader::open(&[1], 1, kind),
            Err(Error::Truncated(_))
        ));
        let Ok(mut r) = Reader::open(&[1, 1, 0, 0, 0, 7, 9], 1, kind) else {
            panic!("valid header")
        };
        assert_eq!(r.u32(), Ok(7));
        assert_eq!(r.finish(), Err(Error::TrailingBytes(kind)));
    }
}
