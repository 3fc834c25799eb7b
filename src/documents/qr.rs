//! QR codes for verification links: the module matrix (from `qrcode`) and its drawings.
//!
//! The matrix is kept apart from any one drawing so the same code can be drawn as an SVG
//! for the web and as vector rectangles inside a PDF stamp (`pdf.rs`).

use qrcode::{Color, EcLevel, QrCode};

/// A QR code's modules, row-major, `true` = dark, with no quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    pub dark: Vec<bool>,
}

/// The light border a reader needs around a code, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE: usize = 4;

impl QrMatrix {
    /// Whether the module at column `x`, row `y` (row 0 at the top) is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// The dark runs of one row as `(first column, length)`: one rectangle each when drawn.
    pub fn dark_runs(&self, y: usize) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut x = 0;
        while x < self.width {
            if self.is_dark(x, y) {
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                runs.push((start, x - start));
            } else {
                x += 1;
            }
        }
        runs
    }
}

/// Encodes a URL (error-correction level M). Errors only if too long for a QR code.
///
/// ```
/// let m = heritage_atlas::documents::qr::encode("https://example.org/verify/ab").unwrap();
/// assert_eq!(m.dark.len(), m.width * m.width);
/// ```
pub fn encode(url: &str) -> Result<QrMatrix, String> {
    // M restores up to 15% of the code: enough for a worn or creased printout while the
    // code stays small beside a page's own content.
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|e| format!("cannot make a QR code of this URL: {e}"))?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok(QrMatrix {
        width: code.width(),
        dark,
    })
}

/// The QR code as a standalone SVG (4-module quiet zone, `shape-rendering="crispEdges"`, one
/// `<path>`), `module_px` pixels per module.
pub fn svg(m: &QrMatrix, module_px: u32) -> String {
    let side = m.width + 2 * QUIET_ZONE;
    let px = side as u64 * u64::from(module_px.max(1));
    let mut d = String::new();
    for y in 0..m.width {
        for (x, len) in m.dark_runs(y) {
            d.push_str(&format!(
                "M{} {}h{len}v1h-{len}z",
                x + QUIET_ZONE,
                y + QUIET_ZONE
            ));
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{px}\" height=\"{px}\" \
         viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{d}\"/></svg>"
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reads every QR code in a greyscale image, as `rqrr` (a port of quirc) sees them.
    pub(crate) fn decode_all(width: usize, height: usize, luma: &[u8]) -> Vec<String> {
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
        img.detect_grids()
            .iter()
            .filter_map(|g| g.decode().ok().map(|(_, text)| text))
            .collect()
    }

    /// The matrix drawn as a bitmap, `scale` pixels per module, with the quiet zone.
    fn bitmap(m: &QrMatrix, scale: usize) -> (usize, Vec<u8>) {
        let side = (m.width + 2 * QUIET_ZONE) * scale;
        let mut luma = vec![255u8; side * side];
        for py in 0..side {
            for px in 0..side {
                let (x, y) = (px / scale, py / scale);
                if x >= QUIET_ZONE && y >= QUIET_ZONE && m.is_dark(x - QUIET_ZONE, y - QUIET_ZONE) {
                    luma[py * side + px] = 0;
                }
            }
        }
        (side, luma)
    }

    const URL: &str = "https://atlas.example.in/verify/\
                       9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn encode_round_trips_through_a_reader() {
        let m = encode(URL).unwrap();
        assert_eq!(m.dark.len(), m.width * m.width);
        // Version 1 is 21 modules; a 95-byte URL at level M needs version 6 or more.
        assert!(m.width >= 41, "width {}", m.width);
        let (side, luma) = bitmap(&m, 4);
        assert_eq!(decode_all(side, side, &luma), vec![URL.to_string()]);
    }

    #[test]
    fn too_long_is_an_error_not_a_panic() {
        let long = "x".repeat(5_000);
        assert!(encode(&long).is_err());
    }

    #[test]
    fn svg_has_one_path_and_the_quiet_zone_in_its_view_box() {
        let m = encode(URL).unwrap();
        let s = svg(&m, 3);
        let side = m.width + 8;
        assert!(s.contains(&format!("viewBox=\"0 0 {side} {side}\"")), "{s}");
        assert!(s.contains(&format!("width=\"{}\"", side * 3)));
        assert_eq!(s.matches("<path").count(), 1);
        assert!(s.contains("shape-rendering=\"crispEdges\""));
        // One subpath per dark run, and every dark module inside one of them.
        let runs: usize = (0..m.width).map(|y| m.dark_runs(y).len()).sum();
        assert_eq!(s.matches('M').count(), runs);
        let covered: usize = (0..m.width)
            .flat_map(|y| m.dark_runs(y))
            .map(|(_, len)| len)
            .sum();
        assert_eq!(covered, m.dark.iter().filter(|d| **d).count());
    }
}
