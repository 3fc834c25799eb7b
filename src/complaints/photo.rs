//! Complaint photos: recognised by their bytes (JPEG, PNG, WebP — never by name or
//! declared type) and stripped of EXIF, XMP and text metadata (a phone's photo carries
//! where it was taken and on what). They are kept, like documents, in a
//! [`BlobStore`](crate::blobs::BlobStore) under their SHA-256.

use img_parts::{jpeg::Jpeg, png::Png, webp::WebP, Bytes, ImageEXIF};
use sha2::{Digest, Sha256};

/// Largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Most photos on one complaint.
pub const MAX_PHOTOS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
}

impl MediaType {
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
        }
    }

    pub fn from_mime(s: &str) -> Option<MediaType> {
        match s {
            "image/jpeg" => Some(MediaType::Jpeg),
            "image/png" => Some(MediaType::Png),
            "image/webp" => Some(MediaType::Webp),
            _ => None,
        }
    }
}

/// What the bytes are, by their signature.
pub fn sniff(b: &[u8]) -> Option<MediaType> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else {
        None
    }
}

/// A photo ready to store: metadata gone, hash known.
#[derive(Debug, Clone)]
pub struct Photo {
    pub media_type: MediaType,
    pub bytes: Bytes,
    pub sha256: String,
}

/// Why an uploaded photo is refused; the text is for the client (after the field name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("larger than {} MB", MAX_PHOTO_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("not a JPEG, PNG or WebP image (judged by its bytes)")]
    NotAnImage,
    #[error("damaged image: {0}")]
    Damaged(img_parts::Error),
}

/// Checks and cleans one uploaded photo.
pub fn prepare(raw: Bytes) -> Result<Photo, PhotoError> {
    if raw.len() > MAX_PHOTO_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let media_type = sniff(&raw).ok_or(PhotoError::NotAnImage)?;
    let bytes = strip(raw, media_type)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(Photo {
        media_type,
        bytes,
        sha256,
    })
}

/// Removes location, camera and text metadata, keeping what decoding needs (JFIF, ICC
/// colour profiles, Adobe colour transforms).
pub fn strip(raw: Bytes, ty: MediaType) -> Result<Bytes, PhotoError> {
    let out = match ty {
        MediaType::Jpeg => {
            let mut j = Jpeg::from_bytes(raw).map_err(PhotoError::Damaged)?;
            // APP1 is EXIF and XMP; APP3–APP13 and APP15 carry maker notes, IPTC and
            // the like; COM is free text. APP0 (JFIF), APP2 (ICC), APP14 (Adobe) stay.
            j.segments_mut()
                .retain(|s| !matches!(s.marker(), 0xE1 | 0xE3..=0xED | 0xEF | 0xFE));
            j.encoder().bytes()
        }
        MediaType::Png => {
            let mut p = Png::from_bytes(raw).map_err(PhotoError::Damaged)?;
            p.chunks_mut()
                .retain(|c| !matches!(&c.kind(), b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME"));
            p.encoder().bytes()
        }
        MediaType::Webp => {
            let mut w = WebP::from_bytes(raw).map_err(PhotoError::Damaged)?;
            w.remove_chunks_by_id(*b"XMP ");
            // Also rewrites the VP8X flags to say there is no EXIF (or XMP) any more.
            w.set_exif(None);
            w.encoder().bytes()
        }
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal JPEG: SOI, APP0 JFIF, APP1 EXIF with a GPS-ish payload, COM, SOS, EOI.
    fn jpeg_with_exif() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        let seg = |v: &mut Vec<u8>, marker: u8, body: &[u8]| {
            v.extend([0xFF, marker]);
            v.extend(((body.len() + 2) as u16).to_be_bytes());
            v.extend(body);
        };
        seg(&mut v, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        seg(&mut v, 0xE1, b"Exif\0\0GPSLatitude 22.5726 Canon EOS");
        seg(&mut v, 0xFE, b"shot by someone");
        seg(
            &mut v,
            0xDA,
            &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        );
        v.extend([0x12, 0x34, 0xFF, 0xD9]);
        v
    }

    #[test]
    fn sniffs_by_bytes() {
        assert_eq!(sniff(&jpeg_with_exif()), Some(MediaType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(MediaType::Png));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(MediaType::Webp));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"<svg"), None);
    }

    #[test]
    fn exif_and_comments_are_stripped_from_jpeg() {
        let p = prepare(Bytes::from(jpeg_with_exif())).unwrap();
        let s = String::from_utf8_lossy(&p.bytes);
        assert!(!s.contains("GPSLatitude") && !s.contains("Canon") && !s.contains("shot by"));
        assert!(s.contains("JFIF"));
        assert_eq!(p.media_type, MediaType::Jpeg);
        assert_eq!(p.sha256.len(), 64);
    }

    #[test]
    fn damaged_or_unknown_images_are_refused() {
        assert_eq!(
            prepare(Bytes::from_static(b"GIF89a......")).unwrap_err(),
            PhotoError::NotAnImage
        );
        let damaged = prepare(Bytes::from_static(b"\xFF\xD8\xFF\xE1\xFF")).unwrap_err();
        assert!(matches!(damaged, PhotoError::Damaged(_)), "{damaged}");
        assert!(damaged.to_string().starts_with("damaged image: "));
        assert_eq!(
            prepare(Bytes::from(vec![0xFF; MAX_PHOTO_BYTES + 1]))
                .unwrap_err()
                .to_string(),
            "larger than 10 MB"
        );
    }
}
