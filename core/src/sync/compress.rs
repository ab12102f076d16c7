//! Body compression.
//!
//! Push bodies go out zstd-compressed at level 12. Measured with `cargo run --release -p
//! fieldconsult-core --example compression` on push batches of complete sessions (every topic
//! of the default checklist answered with a note, 5 priorities, 2 concerns; ≈3.4 KB of JSON
//! each, varied content), on the 2-core machine of the README, median of 9:
//!
//! | batch (uncompressed JSON) | gzip-6           | gzip-9           | zstd-3           | zstd-9           | zstd-12          | zstd-19            |
//! |---------------------------|------------------|------------------|------------------|------------------|------------------|--------------------|
//! | 10 sessions, 33.6 KB      | 2,497 B, 0.23 ms | 2,468 B, 0.24 ms | 2,860 B, 0.05 ms | 2,369 B, 0.22 ms | 2,364 B, 0.39 ms | 2,302 B, 16 ms     |
//! | 100 sessions, 336 KB      | 14,464 B, 1.7 ms | 13,891 B, 2.3 ms | 19,570 B, 0.3 ms | 13,239 B, 1.8 ms | 12,118 B, 2.4 ms | 11,459 B, 130 ms   |
//! | 300 sessions, 1.0 MB (a full batch) | 40,506 B (24.9×), 5.3 ms | 38,821 B, 7.4 ms | 56,479 B (17.9×), 0.8 ms | 36,803 B, 5.7 ms | 33,206 B (30.4×), 7.7 ms | 30,867 B, 334 ms |
//!
//! zstd's default level 3 is the fastest but 40 % larger than gzip; at level 12 zstd is 18 %
//! smaller than gzip-6 (and 14 % smaller than gzip-9) for 2.4 ms more per full batch, a
//! few tens of milliseconds on a phone against seconds of a slow, paid link. Level 19 saves
//! 7 % more for 40× the time. So: zstd-12. Both codecs are far within the target of ≤ 1/5
//! of the uncompressed JSON. Responses may come back zstd, gzip or plain.

use std::io::Read;

use crate::error::{Error, Result};

/// A body encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// gzip (RFC 1952), level 6.
    Gzip,
    /// zstd, level 12.
    Zstd,
}

/// The encoding push bodies use: see the measurements above.
pub const PUSH_CODEC: Codec = Codec::Zstd;

/// What responses may be encoded with, for `Accept-Encoding`.
pub const ACCEPT_ENCODING: &str = "zstd, gzip";

/// Largest body a response may decompress to (a pull page is far below this).
const MAX_DECODED: u64 = 256 << 20;

impl Codec {
    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
        }
    }

    /// `data` compressed.
    pub fn compress(self, data: &[u8]) -> Result<Vec<u8>> {
        match self {
            Codec::Gzip => {
                use std::io::Write;
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(data.len() / 4),
                    flate2::Compression::new(6),
                );
                enc.write_all(data)?;
                Ok(enc.finish()?)
            }
            Codec::Zstd => Ok(zstd::bulk::compress(data, 12)?),
        }
    }
}

/// A response body decoded according to its `Content-Encoding` (none, `identity`, `gzip` or
/// `zstd`), bounded in size.
pub fn decode(encoding: Option<&str>, body: Vec<u8>) -> Result<Vec<u8>> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase());
    let mut out = Vec::new();
    match encoding.as_deref() {
        None | Some("") | Some("identity") => return Ok(body),
        Some("gzip") | Some("x-gzip") => {
            flate2::read::GzDecoder::new(body.as_slice())
                .take(MAX_DECODED)
                .read_to_end(&mut out)
                .map_err(|_| protocol("undecodable gzip body"))?;
        }
        Some("zstd") => {
            zstd::stream::read::Decoder::new(body.as_slice())
                .map_err(|_| protocol("undecodable zstd body"))?
                .take(MAX_DECODED)
                .read_to_end(&mut out)
                .map_err(|_| protocol("undecodable zstd body"))?;
        }
        Some(_) => return Err(protocol("unknown content encoding")),
    }
    Ok(out)
}

fn protocol(what: &'static str) -> Error {
    Error::Protocol { what }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() -> Result<()> {
        let data = br#"{"changes":[{"record":{"kind":"visit"}}]}"#.repeat(50);
        for codec in [Codec::Gzip, Codec::Zstd] {
            let packed = codec.compress(&data)?;
            assert!(packed.len() < data.len());
            assert_eq!(decode(Some(codec.token()), packed)?, data);
        }
        assert_eq!(decode(None, data.clone())?, data);
        assert!(decode(Some("br"), data).is_err());
        Ok(())
    }
}
