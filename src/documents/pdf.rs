//! PDF documents: the text layer of an upload, and stamped copies that carry a QR code of
//! their verification URL with a line of text at the bottom of every page.
//!
//! Every input here is untrusted. `lopdf` and `pdf-extract` can panic on malformed files, so
//! each entry point runs inside `catch_unwind` and a panic becomes [`PdfError::Unreadable`].
//! Time and memory are bounded by the caller (it runs these in a child process with limits);
//! the caps here are the ones a hostile file could otherwise turn into work of *ours*:
//! pages ([`MAX_PAGES`]), object numbers ([`MAX_OBJECT_NUMBER`]) and decoded images
//! ([`MAX_IMAGE_ALLOC`]).
//!
//! A stamp is drawn in vector form: the QR code as filled rectangles (one per dark run of a
//! row, in one path so no seams show between them) on a white backing, and the line in
//! Helvetica, a base-14 font every reader has, so nothing is embedded. The page's own content
//! is wrapped in `q … Q` so whatever state it leaves (a scale, a colour) cannot move or tint
//! the stamp. A copy is marked with the original's SHA-256 in its Info dictionary, written
//! as the file's last object, so [`stamped_original`] finds it by searching bytes.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use lopdf::xref::XrefType;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat};

use super::qr::{self, QrMatrix, QUIET_ZONE};

/// More pages than any register document; past this a file is refused rather than read.
pub const MAX_PAGES: usize = 2_000;

/// The PDF specification's own limit on indirect objects (ISO 32000-1, annex C). lopdf takes
/// the object count from the trailer and loops up to it when writing, so a forged `/Size` of
/// four billion would otherwise cost us minutes of CPU.
pub const MAX_OBJECT_NUMBER: u32 = 8_388_607;

/// What a PNG or WebP decoder may allocate (the decoded picture included).
pub const MAX_IMAGE_ALLOC: u64 = 256 * 1024 * 1024;

/// The Info key of the copy marker, searched for as bytes by [`stamped_original`].
const MARKER_KEY: &[u8] = b"HeritageAtlasOriginal";

/// The name of the stamp's font in a page's resources: unusual enough not to meet a
/// document's own names (a copy of a copy reuses it, with the same font).
const FONT_NAME: &[u8] = b"HAStampF1";

/// The side of the QR code's modules on the page, quiet zone not included (about 2 cm)...
const QR_SIDE_PT: f64 = 56.0;
/// ...unless that makes a module smaller than this. At 1.37 pt (a 41-module code in 56 pt)
/// neither zbar nor rqrr read poppler's 150 dpi rendering of a code on a plain white page
/// reliably; at 1.5 pt (0.53 mm, over 3 px at 150 dpi) both do.
const MIN_MODULE_PT: f64 = 1.5;
/// The gap between the page's edge and the stamp.
const MARGIN_PT: f64 = 6.0;
/// The size of the verification line; smaller only when a narrow page needs it.
const LINE_PT: f64 = 7.0;
const MIN_LINE_PT: f64 = 3.0;

/// A4 portrait, in points: the page an image document is set on (turned for a wide image).
const A4: (f64, f64) = (595.0, 842.0);
/// The margins around an image on its page, top and sides.
const IMAGE_MARGIN_PT: f64 = 36.0;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("not a readable PDF: {0}")]
    Unreadable(String),
    #[error("{0}")]
    Unsupported(String),
    /// Text for a PDF of our own making is more than its caps allow (see `letter.rs`): the
    /// input's fault, not the PDF's.
    #[error("{0}")]
    TooLarge(String),
    /// A PDF of our own making could not be put together (an embedded font the code cannot
    /// use): a bug, not bad input.
    #[error("cannot make the PDF: {0}")]
    Internal(String),
}

/// The text layer of a PDF, page by page (empty strings for pages with no text, e.g. scans).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfText {
    pub pages: Vec<String>,
}

/// What a stamped copy carries.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// The absolute verification URL, e.g. `https://host/verify/<sha>`: the QR code's content.
    pub url: &'a str,
    /// One line of ASCII text printed beside the code (anything else is printed as `?`).
    pub line: &'a str,
    /// The SHA-256 (64 hex digits) of the document the copy is made from.
    pub original_sha256: &'a str,
}

/// Reads the text layer of every page.
///
/// A page whose text cannot be read (a broken font, a parser panic) is an empty string, like
/// a scanned page, rather than failing the whole document.
pub fn extract_text(bytes: &[u8]) -> Result<PdfText, PdfError> {
    let mut doc = guarded(|| load(bytes))?;
    without_image_data(&mut doc);
    let count = doc.get_pages().len() as u32;
    let pages = (1..=count)
        .map(|number| guarded(|| page_text(&doc, number)).unwrap_or_default())
        .collect();
    Ok(PdfText { pages })
}

/// The number of pages, for a file that opens.
pub fn page_count(bytes: &[u8]) -> Result<usize, PdfError> {
    guarded(|| load(bytes).map(|doc| doc.get_pages().len()))
}

/// The PDF with, on every page, a QR code of `url` and the verification line at the bottom
/// margin. Deterministic: the same input gives the same bytes.
pub fn stamp(pdf: &[u8], s: &Stamp) -> Result<Vec<u8>, PdfError> {
    let marks = Marks::new(s)?;
    guarded(|| {
        let mut doc = load(pdf)?;
        stamp_pages(&mut doc, &marks)?;
        save(doc, &marks)
    })
}

/// A one-page PDF of an image document (JPEG, PNG, WebP) with the same stamp.
///
/// A JPEG is embedded as it is (`/DCTDecode`); PNG and WebP are decoded to RGB (transparency
/// laid on white) and embedded Flate-compressed.
pub fn image_to_pdf(image: &[u8], media_type: &str, s: &Stamp) -> Result<Vec<u8>, PdfError> {
    let marks = Marks::new(s)?;
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    guarded(|| {
        let picture = match essence.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Picture::jpeg(image)?,
            "image/png" => Picture::decoded(image, image::ImageFormat::Png)?,
            "image/webp" => Picture::decoded(image, image::ImageFormat::WebP)?,
            other => {
                return Err(PdfError::Unsupported(format!(
                    "cannot make a PDF of {other:?}: JPEG, PNG and WebP only"
                )))
            }
        };
        let mut doc = picture_document(picture, &marks);
        stamp_pages(&mut doc, &marks)?;
        save(doc, &marks)
    })
}

/// If these bytes are a copy made by [`stamp`] or [`image_to_pdf`], the SHA-256 of the
/// original, read from the marker without parsing the file.
///
/// The last marker in the file is the one that counts: a copy's is written last, after
/// anything its original held (a forged marker in an uploaded file's content comes earlier).
pub fn stamped_original(bytes: &[u8]) -> Option<String> {
    let mut key = Vec::with_capacity(MARKER_KEY.len() + 1);
    key.push(b'/');
    key.extend_from_slice(MARKER_KEY);
    let mut end = bytes.len();
    while let Some(at) = bytes[..end].windows(key.len()).rposition(|w| w == key) {
        if let Some(sha) = sha_after(&bytes[at + key.len()..]) {
            return Some(sha);
        }
        end = at;
    }
    None
}

/// `(<64 hex digits>)` after optional white space, as the marker's value is written.
fn sha_after(rest: &[u8]) -> Option<String> {
    let start = rest
        .iter()
        .position(|b| !matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' '))?;
    let value = rest.get(start..start + 66)?;
    let (open, hex, close) = (value[0], &value[1..65], value[65]);
    (open == b'(' && close == b')' && hex.iter().all(u8::is_ascii_hexdigit))
        .then(|| String::from_utf8_lossy(hex).to_ascii_lowercase())
}

/// Runs a parser step, turning a panic into [`PdfError::Unreadable`].
fn guarded<T>(step: impl FnOnce() -> Result<T, PdfError>) -> Result<T, PdfError> {
    catch_unwind(AssertUnwindSafe(step)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the parser gave up".into());
        Err(PdfError::Unreadable(why))
    })
}

fn load(bytes: &[u8]) -> Result<Document, PdfError> {
    let mut doc = Document::load_mem(bytes).map_err(|e| PdfError::Unreadable(e.to_string()))?;
    if doc.is_encrypted() {
        // Files that only restrict printing or editing have an empty user password: they
        // open in any reader, so they open here too.
        doc.decrypt("")
            .map_err(|_| PdfError::Unsupported("the PDF is password-protected".into()))?;
    }
    match doc.page_iter().take(MAX_PAGES + 1).count() {
        0 => Err(PdfError::Unreadable("the PDF has no pages".into())),
        n if n > MAX_PAGES => Err(PdfError::Unsupported(format!(
            "the PDF has more than {MAX_PAGES} pages"
        ))),
        _ => Ok(doc),
    }
}

/// Empties every image: `pdf-extract` runs an image's `Do` through its content parser, which
/// for a scan means parsing megabytes of picture as operators to find no text.
fn without_image_data(doc: &mut Document) {
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object {
            let is_image = stream
                .dict
                .get(b"Subtype")
                .and_then(Object::as_name)
                .is_ok_and(|name| name == b"Image");
            if is_image {
                stream.dict.remove(b"Filter");
                stream.dict.remove(b"DecodeParms");
                stream.set_content(Vec::new());
            }
        }
    }
}

fn page_text(doc: &Document, number: u32) -> Result<String, PdfError> {
    let mut text = String::new();
    {
        let mut out = pdf_extract::PlainTextOutput::new(&mut text);
        pdf_extract::output_doc_page(doc, &mut out, number)
            .map_err(|e| PdfError::Unreadable(e.to_string()))?;
    }
    Ok(tidy(&text))
}

/// Runs of white space within a line become one space; line breaks stay, but no more than
/// one empty line in a row, and none at either end. Control characters are dropped.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut empty_lines = 0;
    for line in text.lines() {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            empty_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if empty_lines > 0 { "\n\n" } else { "\n" });
        }
        empty_lines = 0;
        out.push_str(&words.join(" "));
    }
    out
}

/// A stamp made ready to draw: the code, the line as Helvetica will print it, the marker.
struct Marks {
    qr: QrMatrix,
    /// The line's bytes (printable ASCII), escaped for a PDF string.
    line: Vec<u8>,
    /// The line's width in thousandths of the font size.
    line_width: f64,
    sha: String,
}

impl Marks {
    fn new(s: &Stamp) -> Result<Marks, PdfError> {
        if s.original_sha256.len() != 64
            || !s.original_sha256.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(PdfError::Unsupported(
                "the original's SHA-256 must be 64 hex digits".into(),
            ));
        }
        let qr = qr::encode(s.url).map_err(PdfError::Unsupported)?;
        let printable: Vec<u8> = s
            .line
            .chars()
            .map(|c| match c {
                ' '..='~' => c as u8,
                _ => b'?',
            })
            .collect();
        let line_width = printable.iter().map(|b| helvetica_width(*b)).sum();
        let mut line = Vec::with_capacity(printable.len());
        for b in printable {
            if matches!(b, b'(' | b')' | b'\\') {
                line.push(b'\\');
            }
            line.push(b);
        }
        Ok(Marks {
            qr,
            line,
            line_width,
            sha: s.original_sha256.to_ascii_lowercase(),
        })
    }
}

/// Helvetica's advance widths for printable ASCII in WinAnsiEncoding (from Adobe's AFM),
/// in thousandths of the font size.
fn helvetica_width(b: u8) -> f64 {
    const WIDTHS: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
        278, // ' '../
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584,
        556, // 0..?
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
        778, // @..O
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
        556, // P.._
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
        556, // `..o
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
    ];
    match b {
        b' '..=b'~' => f64::from(WIDTHS[usize::from(b - b' ')]),
        _ => 556.0,
    }
}

/// Where a page shows: its visible box in default user space and its turn when displayed.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Geometry {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    /// Clockwise quarter turns, 0..=3.
    quarter_turns: u8,
}

impl Geometry {
    /// US Letter: what readers assume for a page that names no MediaBox anywhere.
    const DEFAULT: Geometry = Geometry {
        x0: 0.0,
        y0: 0.0,
        x1: 612.0,
        y1: 792.0,
        quarter_turns: 0,
    };

    fn of(doc: &Document, page: &Dictionary) -> Geometry {
        let media = inherited(doc, page, b"MediaBox").and_then(|o| rect(doc, o));
        let crop = inherited(doc, page, b"CropBox").and_then(|o| rect(doc, o));
        let [x0, y0, x1, y1] = match (media, crop) {
            (Some(m), Some(c)) => {
                let inside = [
                    m[0].max(c[0]),
                    m[1].max(c[1]),
                    m[2].min(c[2]),
                    m[3].min(c[3]),
                ];
                if inside[0] < inside[2] && inside[1] < inside[3] {
                    inside
                } else {
                    m
                }
            }
            (Some(m), None) => m,
            (None, Some(c)) => c,
            (None, None) => {
                let d = Geometry::DEFAULT;
                [d.x0, d.y0, d.x1, d.y1]
            }
        };
        let rotate = inherited(doc, page, b"Rotate")
            .and_then(|o| o.as_i64().ok())
            .unwrap_or(0);
        // Only multiples of 90 are meaningful; readers ignore the rest, and so do we.
        let quarter_turns = if rotate % 90 == 0 {
            (rotate.rem_euclid(360) / 90) as u8
        } else {
            0
        };
        Geometry {
            x0,
            y0,
            x1,
            y1,
            quarter_turns,
        }
    }

    /// Width and height as the page is displayed.
    fn shown(&self) -> (f64, f64) {
        let (w, h) = (self.x1 - self.x0, self.y1 - self.y0);
        if self.quarter_turns % 2 == 1 {
            (h, w)
        } else {
            (w, h)
        }
    }

    /// The matrix from "shown" space (origin at the displayed page's lower left, x right,
    /// y up) to the page's user space.
    fn shown_to_user(&self) -> [f64; 6] {
        let Geometry { x0, y0, x1, y1, .. } = *self;
        match self.quarter_turns {
            // Turned clockwise for display: the shown lower left is the user lower right,
            // shown "up" is user -x.
            1 => [0.0, 1.0, -1.0, 0.0, x1, y0],
            2 => [-1.0, 0.0, 0.0, -1.0, x1, y1],
            3 => [0.0, -1.0, 1.0, 0.0, x0, y1],
            _ => [1.0, 0.0, 0.0, 1.0, x0, y0],
        }
    }
}

/// A page attribute, looked up the page tree as PDF's inheritable attributes are.
fn inherited<'a>(doc: &'a Document, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = page;
    // Page trees are shallow; lopdf stops iterating pages at 256 levels, so do we.
    for _ in 0..256 {
        if let Ok(value) = node.get(key) {
            return doc.dereference(value).ok().map(|(_, object)| object);
        }
        node = node
            .get(b"Parent")
            .and_then(Object::as_reference)
            .and_then(|id| doc.get_dictionary(id))
            .ok()?;
    }
    None
}

/// A rectangle `[llx lly urx ury]` with finite corners, normalised so x0 < x1 and y0 < y1.
fn rect(doc: &Document, object: &Object) -> Option<[f64; 4]> {
    let items = object.as_array().ok()?;
    if items.len() != 4 {
        return None;
    }
    let mut v = [0.0; 4];
    for (slot, item) in v.iter_mut().zip(items) {
        let (_, item) = doc.dereference(item).ok()?;
        *slot = f64::from(item.as_float().ok()?);
        if !slot.is_finite() {
            return None;
        }
    }
    let r = [
        v[0].min(v[2]),
        v[1].min(v[3]),
        v[0].max(v[2]),
        v[1].max(v[3]),
    ];
    (r[2] - r[0] >= 1.0 && r[3] - r[1] >= 1.0).then_some(r)
}

/// Adds the stamp to every page of `doc`.
fn stamp_pages(doc: &mut Document, marks: &Marks) -> Result<(), PdfError> {
    let max_id = doc.objects.keys().map(|id| id.0).max().unwrap_or(0);
    if max_id > MAX_OBJECT_NUMBER {
        return Err(PdfError::Unsupported(format!(
            "the PDF numbers its objects past the format's limit ({MAX_OBJECT_NUMBER})"
        )));
    }
    // The trailer's /Size may say anything; new objects follow the ones that exist.
    doc.max_id = max_id;

    let font = doc.add_object(helvetica());
    let open = doc.add_object(content_stream(b"q\n".to_vec()));
    // Pages of one size share one stamp stream.
    let mut stamps: HashMap<Vec<u8>, ObjectId> = HashMap::new();
    let mut done = HashSet::new();
    let pages: Vec<ObjectId> = doc.page_iter().collect();
    for page_id in pages {
        // A page listed twice in the tree is one page: stamp it once.
        if !done.insert(page_id) {
            continue;
        }
        let page = doc
            .get_dictionary(page_id)
            .map_err(|e| PdfError::Unreadable(e.to_string()))?;
        let geometry = Geometry::of(doc, page);
        let contents = content_refs(doc, page);
        let resources = own_resources(doc, page, font);

        let drawing = stamp_content(&geometry, marks);
        let stamp_id = match stamps.get(&drawing) {
            Some(id) => *id,
            None => {
                let id = doc.add_object(content_stream(drawing.clone()));
                stamps.insert(drawing, id);
                id
            }
        };
        let mut new_contents = Vec::with_capacity(contents.len() + 2);
        new_contents.push(Object::Reference(open));
        new_contents.extend(contents);
        new_contents.push(Object::Reference(stamp_id));

        let page = doc
            .get_dictionary_mut(page_id)
            .map_err(|e| PdfError::Unreadable(e.to_string()))?;
        page.set("Contents", Object::Array(new_contents));
        page.set("Resources", Object::Dictionary(resources));
    }
    Ok(())
}

/// The page's content streams as references, however `/Contents` names them.
fn content_refs(doc: &Document, page: &Dictionary) -> Vec<Object> {
    let refs = |items: &[Object]| {
        items
            .iter()
            .filter(|o| matches!(o, Object::Reference(_)))
            .cloned()
            .collect()
    };
    match page.get(b"Contents") {
        Ok(Object::Reference(id)) => match doc.get_object(*id) {
            Ok(Object::Array(items)) => refs(items),
            _ => vec![Object::Reference(*id)],
        },
        Ok(Object::Array(items)) => refs(items),
        _ => Vec::new(),
    }
}

/// The page's resources, inherited ones included, as a dictionary of its own with the
/// stamp's font added: a shared or inherited dictionary is copied, never changed in place.
fn own_resources(doc: &Document, page: &Dictionary, font: ObjectId) -> Dictionary {
    let mut resources = inherited(doc, page, b"Resources")
        .and_then(|o| o.as_dict().ok())
        .cloned()
        .unwrap_or_default();
    let mut fonts = resources
        .get(b"Font")
        .ok()
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_dict().ok())
        .cloned()
        .unwrap_or_default();
    fonts.set(FONT_NAME, Object::Reference(font));
    resources.set("Font", Object::Dictionary(fonts));
    resources
}

fn helvetica() -> Dictionary {
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Subtype", Object::Name(b"Type1".to_vec()));
    font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
    // WinAnsi maps ASCII to the glyphs a reader expects (' is quotesingle, not quoteright).
    font.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
    font
}

/// A content stream, Flate-compressed when that makes it smaller.
fn content_stream(content: Vec<u8>) -> Stream {
    let mut stream = Stream::new(Dictionary::new(), content);
    // Compression cannot fail on a Vec; if it did, the plain stream is as good.
    let _ = stream.compress();
    stream
}

/// The stamp's drawing for one page, closing the `q` that opens the page's own content.
///
/// Laid out in "shown" space, then turned into the page's user space by one `cm`: the QR
/// code (quiet zone included, on white) in the lower-left corner, the line to its right,
/// level with the code's bottom row. A page too small for it gets it scaled down; a page too
/// narrow for the line gets a smaller type size.
fn stamp_content(geometry: &Geometry, marks: &Marks) -> Vec<u8> {
    let Layout {
        margin,
        module,
        block,
        text_x,
        size,
        baseline,
        line_w,
    } = Layout::new(geometry.shown(), marks);
    let mut out = Vec::with_capacity(4096);
    let [a, b, c, d, e, f] = geometry.shown_to_user();
    let _ = write!(
        out,
        "Q\nq\n{} {} {} {} {} {} cm\n",
        num(a),
        num(b),
        num(c),
        num(d),
        num(e),
        num(f)
    );
    // The code: white block, then the dark modules in module units, row 0 at the top.
    let _ = writeln!(
        out,
        "1 g {} {} {} {} re f",
        num(margin),
        num(margin),
        num(block),
        num(block)
    );
    let origin = margin + module * QUIET_ZONE as f64;
    let _ = writeln!(
        out,
        "q {} 0 0 {} {} {} cm 0 g",
        num(module),
        num(module),
        num(origin),
        num(origin)
    );
    let w = marks.qr.width;
    for y in 0..w {
        for (x, len) in marks.qr.dark_runs(y) {
            let _ = writeln!(out, "{x} {} {len} 1 re", w - 1 - y);
        }
    }
    out.extend_from_slice(b"f Q\n");
    // The line, on white so the page beneath cannot make it unreadable.
    let _ = writeln!(
        out,
        "1 g {} {} {} {} re f",
        num(text_x),
        num(baseline - 0.3 * size),
        num(line_w + 2.0),
        num(1.3 * size)
    );
    let _ = write!(
        out,
        "0 g BT /{} {} Tf 0 Tr 0 Tc 0 Tw 100 Tz {} {} Td (",
        String::from_utf8_lossy(FONT_NAME),
        num(size),
        num(text_x + 1.0),
        num(baseline)
    );
    out.extend_from_slice(&marks.line);
    out.extend_from_slice(b") Tj ET\nQ\n");
    out
}

/// Where the stamp's parts go on a page shown `w` × `h` points, in shown space.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// The gap from the page's left and bottom edges to the code's white block.
    margin: f64,
    /// One module of the code.
    module: f64,
    /// The side of the code's white block, quiet zone included.
    block: f64,
    /// The left of the line's white backing; the text starts 1 pt in.
    text_x: f64,
    /// The line's type size.
    size: f64,
    baseline: f64,
    /// The line's width at `size`.
    line_w: f64,
}

impl Layout {
    fn new((shown_w, shown_h): (f64, f64), marks: &Marks) -> Layout {
        let modules = (marks.qr.width + 2 * QUIET_ZONE) as f64;
        let module = module_pt(&marks.qr);
        let block = module * modules;

        let mut margin = MARGIN_PT;
        let room = shown_w.min(shown_h);
        let mut scale = ((room - 2.0 * margin) / block).min(1.0);
        if scale < 0.1 {
            margin = 0.0;
            scale = (room / block).min(1.0);
        }
        let module = module * scale;
        let block = block * scale;

        let text_x = margin + block;
        // 2 pt for the white backing's padding either side of the text.
        let room_for_line = shown_w - text_x - margin - 2.0;
        let width_at = |size: f64| marks.line_width * size / 1000.0;
        let mut size = LINE_PT;
        if width_at(size) > room_for_line {
            size = (LINE_PT * room_for_line / width_at(LINE_PT)).max(MIN_LINE_PT);
        }
        Layout {
            margin,
            module,
            block,
            text_x,
            size,
            baseline: margin + module * QUIET_ZONE as f64 + 0.25 * size,
            line_w: width_at(size),
        }
    }
}

/// The side of one module of the code, in points, before any scaling down for a small page.
fn module_pt(qr: &QrMatrix) -> f64 {
    (QR_SIDE_PT / qr.width as f64).max(MIN_MODULE_PT)
}

/// A number as a content stream writes it: at most three decimals, no exponent.
fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "-0" | "" => "0".to_string(),
        s => s.to_string(),
    }
}

/// Marks the copy and writes it out.
fn save(mut doc: Document, marks: &Marks) -> Result<Vec<u8>, PdfError> {
    let mut info = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_dict().ok())
        .cloned()
        .unwrap_or_default();
    // Removed first so the key goes last in the dictionary, after any value that could hold
    // a forged marker.
    info.remove(MARKER_KEY);
    info.set(
        MARKER_KEY,
        Object::String(marks.sha.clone().into_bytes(), StringFormat::Literal),
    );
    // The highest object number: written last, after everything the original held.
    let info_id = doc.add_object(info);

    // A fresh trailer: only what a reader needs, so nothing of the original's trailer can
    // follow the marker. The /ID strings go out in hex, which can hold no marker either.
    let mut trailer = Dictionary::new();
    if let Ok(root) = doc.trailer.get(b"Root") {
        trailer.set("Root", root.clone());
    }
    if let Ok(Object::Array(ids)) = doc.trailer.get(b"ID") {
        let ids = ids
            .iter()
            .map(|id| match id {
                Object::String(bytes, _) => {
                    Object::String(bytes.clone(), StringFormat::Hexadecimal)
                }
                other => other.clone(),
            })
            .collect();
        trailer.set("ID", Object::Array(ids));
    }
    trailer.set("Info", Object::Reference(info_id));
    doc.trailer = trailer;
    doc.encryption_state = None;
    // A classic table keeps the trailer, and so the file's end, in plain text.
    doc.reference_table.cross_reference_type = XrefType::CrossReferenceTable;

    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| PdfError::Unreadable(format!("cannot write the copy: {e}")))?;
    Ok(out)
}

/// An image ready to be a PDF XObject.
struct Picture {
    width: u32,
    height: u32,
    color_space: &'static [u8],
    filter: &'static [u8],
    /// Adobe's CMYK JPEGs store ink inverted; `/Decode` turns it back.
    inverted_cmyk: bool,
    data: Vec<u8>,
}

impl Picture {
    /// A JPEG as it is: readers decode `/DCTDecode` themselves. Only the frame header is read.
    fn jpeg(bytes: &[u8]) -> Result<Picture, PdfError> {
        let bad = |why: &str| PdfError::Unreadable(format!("not a usable JPEG: {why}"));
        if !bytes.starts_with(&[0xFF, 0xD8]) {
            return Err(bad("no start-of-image marker"));
        }
        let mut adobe = false;
        let mut i = 2;
        loop {
            if bytes.get(i) != Some(&0xFF) {
                return Err(bad("a segment does not start with a marker"));
            }
            while bytes.get(i) == Some(&0xFF) {
                i += 1;
            }
            let marker = *bytes.get(i).ok_or_else(|| bad("cut short"))?;
            i += 1;
            match marker {
                0x01 | 0xD0..=0xD7 => continue,
                0xD9 | 0xDA => return Err(bad("no frame header before the image data")),
                _ => {}
            }
            let len = bytes
                .get(i..i + 2)
                .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                .ok_or_else(|| bad("cut short"))?;
            let segment = bytes
                .get(i + 2..i + len.max(2))
                .ok_or_else(|| bad("cut short"))?;
            match marker {
                0xEE => adobe |= segment.starts_with(b"Adobe"),
                // Baseline, extended and progressive Huffman frames: what PDF readers take.
                0xC0..=0xC2 => {
                    if segment.len() < 6 {
                        return Err(bad("short frame header"));
                    }
                    if segment[0] != 8 {
                        return Err(PdfError::Unsupported(
                            "JPEGs of other than 8 bits per sample are not supported".into(),
                        ));
                    }
                    let height = u32::from(u16::from_be_bytes([segment[1], segment[2]]));
                    let width = u32::from(u16::from_be_bytes([segment[3], segment[4]]));
                    let color_space: &[u8] = match segment[5] {
                        1 => b"DeviceGray",
                        3 => b"DeviceRGB",
                        4 => b"DeviceCMYK",
                        n => return Err(bad(&format!("{n} colour components"))),
                    };
                    if width == 0 || height == 0 {
                        return Err(bad("no width or height in the frame header"));
                    }
                    return Ok(Picture {
                        width,
                        height,
                        color_space,
                        filter: b"DCTDecode",
                        inverted_cmyk: adobe && segment[5] == 4,
                        data: bytes.to_vec(),
                    });
                }
                0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                    return Err(PdfError::Unsupported(
                        "lossless, hierarchical and arithmetic-coded JPEGs are not supported"
                            .into(),
                    ))
                }
                _ => {}
            }
            i += len;
        }
    }

    /// A PNG or WebP decoded to RGB, transparency laid on white, Flate-compressed.
    fn decoded(bytes: &[u8], format: image::ImageFormat) -> Result<Picture, PdfError> {
        let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(MAX_IMAGE_ALLOC);
        reader.limits(limits);
        let decoded = reader
            .decode()
            .map_err(|e| PdfError::Unreadable(format!("cannot decode the image: {e}")))?;
        let (width, height) = (decoded.width(), decoded.height());
        let rgb: Vec<u8> = if decoded.color().has_alpha() {
            let rgba = decoded.into_rgba8();
            rgba.pixels()
                .flat_map(|p| {
                    let [r, g, b, a] = p.0;
                    let over_white = |c: u8| {
                        let (c, a) = (u32::from(c), u32::from(a));
                        ((c * a + 255 * (255 - a) + 127) / 255) as u8
                    };
                    [over_white(r), over_white(g), over_white(b)]
                })
                .collect()
        } else {
            decoded.into_rgb8().into_raw()
        };
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(&rgb)
            .and_then(|_| encoder.finish())
            .map(|data| Picture {
                width,
                height,
                color_space: b"DeviceRGB",
                filter: b"FlateDecode",
                inverted_cmyk: false,
                data,
            })
            .map_err(|e| PdfError::Unreadable(format!("cannot compress the image: {e}")))
    }
}

/// A one-page document showing the picture, as large as fits an A4 page (turned for a wide
/// picture) above the room the stamp needs.
fn picture_document(picture: Picture, marks: &Marks) -> Document {
    let (page_w, page_h) = if picture.width > picture.height {
        (A4.1, A4.0)
    } else {
        A4
    };
    let modules = (marks.qr.width + 2 * QUIET_ZONE) as f64;
    let stamp_h = module_pt(&marks.qr) * modules + 2.0 * MARGIN_PT;
    let (room_w, room_h) = (
        page_w - 2.0 * IMAGE_MARGIN_PT,
        page_h - IMAGE_MARGIN_PT - stamp_h,
    );
    let (w, h) = (f64::from(picture.width), f64::from(picture.height));
    let fit = (room_w / w).min(room_h / h);
    let (shown_w, shown_h) = (w * fit, h * fit);
    let x = (page_w - shown_w) / 2.0;
    let y = stamp_h + (room_h - shown_h) / 2.0;

    let mut doc = Document::with_version("1.5");
    let mut image = Dictionary::new();
    image.set("Type", Object::Name(b"XObject".to_vec()));
    image.set("Subtype", Object::Name(b"Image".to_vec()));
    image.set("Width", i64::from(picture.width));
    image.set("Height", i64::from(picture.height));
    image.set("ColorSpace", Object::Name(picture.color_space.to_vec()));
    image.set("BitsPerComponent", 8);
    image.set("Filter", Object::Name(picture.filter.to_vec()));
    if picture.inverted_cmyk {
        let decode = [1, 0, 1, 0, 1, 0, 1, 0].map(Object::Integer).to_vec();
        image.set("Decode", Object::Array(decode));
    }
    let image_id = doc.add_object(Stream::new(image, picture.data).with_compression(false));

    let content = format!(
        "q {} 0 0 {} {} {} cm /HAImage Do Q\n",
        num(shown_w),
        num(shown_h),
        num(x),
        num(y)
    );
    let content_id = doc.add_object(content_stream(content.into_bytes()));
    let mut xobjects = Dictionary::new();
    xobjects.set("HAImage", Object::Reference(image_id));
    let mut resources = Dictionary::new();
    resources.set("XObject", Object::Dictionary(xobjects));

    let pages_id = doc.new_object_id();
    let mut page = Dictionary::new();
    page.set("Type", Object::Name(b"Page".to_vec()));
    page.set("Parent", Object::Reference(pages_id));
    page.set(
        "MediaBox",
        Object::Array(vec![0.into(), 0.into(), page_w.into(), page_h.into()]),
    );
    page.set("Resources", Object::Dictionary(resources));
    page.set("Contents", Object::Reference(content_id));
    let page_id = doc.add_object(page);

    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Kids", Object::Array(vec![Object::Reference(page_id)]));
    pages.set("Count", 1);
    doc.objects.insert(pages_id, Object::Dictionary(pages));

    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(catalog_id));
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::qr::tests::decode_all;
    use lopdf::dictionary;
    use proptest::prelude::*;
    use std::path::Path;
    use std::process::Command;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const URL: &str = "https://atlas.example.in/verify/\
                       9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const LINE: &str = "Verified copy of 9f86d081884c: see atlas.example.in/verify (KMC Heritage)";

    fn stamp_of() -> Stamp<'static> {
        Stamp {
            url: URL,
            line: LINE,
            original_sha256: SHA,
        }
    }

    /// How a test PDF is put together.
    #[derive(Clone)]
    struct Fixture {
        /// One page per entry; an empty string makes a page with no text.
        texts: Vec<&'static str>,
        media_box: [f32; 4],
        /// Resources (and MediaBox) on the Pages node rather than on each page.
        inherited: bool,
        /// Resources as an indirect object.
        resources_by_reference: bool,
        rotate: Option<i64>,
        /// Content that starts by scaling and colouring, and never restores: the stamp must
        /// not inherit it.
        leaves_state: bool,
    }

    impl Fixture {
        fn new(texts: &[&'static str]) -> Fixture {
            Fixture {
                texts: texts.to_vec(),
                media_box: [0.0, 0.0, 595.0, 842.0],
                inherited: false,
                resources_by_reference: false,
                rotate: None,
                leaves_state: false,
            }
        }

        fn pdf(&self) -> Vec<u8> {
            let mut doc = Document::with_version("1.5");
            let pages_id = doc.new_object_id();
            let font_id = doc.add_object(dictionary! {
                "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
            });
            let resources = dictionary! {
                "Font" => dictionary! { "F1" => font_id },
            };
            let resources: Object = if self.resources_by_reference {
                doc.add_object(resources).into()
            } else {
                resources.into()
            };
            let media_box: Object = self
                .media_box
                .iter()
                .map(|v| Object::Real(*v))
                .collect::<Vec<_>>()
                .into();
            let [x0, y0, ..] = self.media_box;
            let mut kids = Vec::new();
            for text in &self.texts {
                let mut content = String::new();
                if self.leaves_state {
                    content.push_str("0.5 0 0 0.5 0 0 cm 1 0 0 rg 1 0 0 RG 7 Tr ");
                }
                let k = if self.leaves_state { 2.0 } else { 1.0 };
                if !text.is_empty() {
                    content.push_str(&format!(
                        "BT /F1 {} Tf {} {} Td ({text}) Tj ET\n",
                        24.0 * k,
                        (x0 + 72.0) * k,
                        (y0 + 700.0) * k
                    ));
                }
                // Something drawn where the stamp goes, as a real page would have.
                content.push_str(&format!("0 0 1 rg {} {} 200 100 re f\n", x0 * k, y0 * k));
                let content_id =
                    doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
                let mut page = dictionary! {
                    "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
                };
                if !self.inherited {
                    page.set("Resources", resources.clone());
                    page.set("MediaBox", media_box.clone());
                }
                if let Some(r) = self.rotate {
                    page.set("Rotate", r);
                }
                kids.push(doc.add_object(page).into());
            }
            let mut pages = dictionary! {
                "Type" => "Pages", "Count" => kids.len() as i64, "Kids" => kids,
            };
            if self.inherited {
                pages.set("Resources", resources.clone());
                pages.set("MediaBox", media_box.clone());
            }
            doc.objects.insert(pages_id, pages.into());
            let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
            doc.trailer.set("Root", catalog);
            let mut out = Vec::new();
            doc.save_to(&mut out).unwrap();
            out
        }
    }

    fn fixtures() -> Vec<(&'static str, Fixture)> {
        let one = Fixture::new(&["Howrah Bridge"]);
        let three = Fixture::new(&["Howrah Bridge spans the Hooghly", "Marble Palace", ""]);
        let inherited = Fixture {
            inherited: true,
            resources_by_reference: true,
            ..Fixture::new(&["Victoria Memorial", "Writers Building"])
        };
        let offset = Fixture {
            media_box: [1000.0, -500.0, 1612.0, 292.0],
            ..Fixture::new(&["Town Hall"])
        };
        let stateful = Fixture {
            leaves_state: true,
            ..Fixture::new(&["Jorasanko Thakur Bari"])
        };
        vec![
            ("one page", one),
            ("three pages", three),
            ("inherited resources", inherited),
            ("offset media box", offset),
            ("content that leaves its state", stateful),
        ]
    }

    #[test]
    fn text_is_read_page_by_page() {
        let pdf = Fixture::new(&["Howrah Bridge spans the Hooghly", "Marble Palace", ""]).pdf();
        let text = extract_text(&pdf).unwrap();
        assert_eq!(text.pages.len(), 3);
        assert!(
            text.pages[0].contains("Howrah Bridge spans the Hooghly"),
            "{:?}",
            text.pages
        );
        assert!(text.pages[1].contains("Marble Palace"), "{:?}", text.pages);
        assert!(!text.pages[1].contains("Howrah"));
        assert_eq!(text.pages[2], "");
        assert_eq!(page_count(&pdf).unwrap(), 3);
        assert_eq!(page_count(&Fixture::new(&["x"]).pdf()).unwrap(), 1);

        let inherited = Fixture {
            inherited: true,
            resources_by_reference: true,
            ..Fixture::new(&["Victoria Memorial"])
        };
        assert!(extract_text(&inherited.pdf()).unwrap().pages[0].contains("Victoria Memorial"));
    }

    #[test]
    fn white_space_is_tidied_not_lost() {
        assert_eq!(tidy("  a   b\t c \n\n\n\nd\u{0}e\n"), "a b c\n\nd e");
        assert_eq!(tidy("\n \n"), "");
    }

    #[test]
    fn not_a_pdf_is_unreadable() {
        assert!(matches!(
            extract_text(b"hello"),
            Err(PdfError::Unreadable(_))
        ));
        assert!(matches!(page_count(b""), Err(PdfError::Unreadable(_))));
        assert!(stamp(b"%PDF-1.4\n", &stamp_of()).is_err());
    }

    #[test]
    fn a_bad_stamp_is_refused_before_the_pdf_is_read() {
        let pdf = Fixture::new(&["x"]).pdf();
        let short_sha = Stamp {
            original_sha256: "abc",
            ..stamp_of()
        };
        assert!(matches!(
            stamp(&pdf, &short_sha),
            Err(PdfError::Unsupported(_))
        ));
        let long = "x".repeat(5_000);
        let long_url = Stamp {
            url: &long,
            ..stamp_of()
        };
        assert!(matches!(
            stamp(&pdf, &long_url),
            Err(PdfError::Unsupported(_))
        ));
    }

    #[test]
    fn stamped_copies_keep_their_pages_and_carry_the_line_and_marker() {
        for (name, fixture) in fixtures() {
            let pdf = fixture.pdf();
            let copy = stamp(&pdf, &stamp_of()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                copy,
                stamp(&pdf, &stamp_of()).unwrap(),
                "{name}: not deterministic"
            );
            let doc = Document::load_mem(&copy).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(doc.get_pages().len(), fixture.texts.len(), "{name}");
            assert_eq!(stamped_original(&copy).as_deref(), Some(SHA), "{name}");
            assert_eq!(stamped_original(&pdf), None, "{name}");

            let text = extract_text(&copy).unwrap();
            assert_eq!(text.pages.len(), fixture.texts.len(), "{name}");
            for (page, original) in text.pages.iter().zip(&fixture.texts) {
                assert!(page.contains(LINE), "{name}: {page:?}");
                assert!(
                    page.contains(original),
                    "{name}: {page:?} lost {original:?}"
                );
            }
        }
    }

    #[test]
    fn stamped_codes_scan_in_the_bottom_left_of_every_page() {
        for (name, fixture) in fixtures() {
            let copy = stamp(&fixture.pdf(), &stamp_of()).unwrap();
            let Some(pages) = rasterise(&copy) else {
                return;
            };
            assert_eq!(pages.len(), fixture.texts.len(), "{name}");
            for (i, page) in pages.iter().enumerate() {
                assert_scans_bottom_left(page, &format!("{name}, page {}", i + 1));
            }
        }
    }

    #[test]
    fn rotated_pages_get_the_stamp_at_their_shown_bottom() {
        for rotate in [90, 180, 270, -90, 450] {
            let fixture = Fixture {
                rotate: Some(rotate),
                media_box: [30.0, 40.0, 642.0, 832.0],
                ..Fixture::new(&["Shaheed Minar"])
            };
            let copy = stamp(&fixture.pdf(), &stamp_of()).unwrap();
            assert!(extract_text(&copy).unwrap().pages[0].contains(LINE));
            let Some(pages) = rasterise(&copy) else {
                return;
            };
            assert_scans_bottom_left(&pages[0], &format!("/Rotate {rotate}"));
        }
    }

    #[test]
    fn tiny_and_narrow_pages_keep_the_stamp_inside() {
        let marks = Marks::new(&stamp_of()).unwrap();
        let sizes = [
            (595.0, 842.0),
            (842.0, 595.0),
            (200.0, 842.0),
            (100.0, 60.0),
            (20.0, 20.0),
            (1.0, 1.0),
        ];
        for (w, h) in sizes {
            let l = Layout::new((w, h), &marks);
            let inside = |x0: f64, y0: f64, x1: f64, y1: f64| {
                x0 >= 0.0 && y0 >= 0.0 && x1 <= w + 1e-9 && y1 <= h + 1e-9
            };
            assert!(
                inside(l.margin, l.margin, l.margin + l.block, l.margin + l.block),
                "code on {w}x{h}: {l:?}"
            );
            if l.size > MIN_LINE_PT {
                let top = l.baseline + l.size;
                assert!(
                    inside(
                        l.text_x,
                        l.baseline - 0.3 * l.size,
                        l.text_x + l.line_w + 2.0,
                        top
                    ),
                    "line on {w}x{h}: {l:?}"
                );
            }
        }
        assert_eq!(Layout::new((595.0, 842.0), &marks).size, LINE_PT);
        assert!(Layout::new((200.0, 842.0), &marks).size < LINE_PT);

        // A small page's code is drawn smaller: it still reads at a finer resolution.
        for media_box in [[0.0, 0.0, 100.0, 60.0], [0.0, 0.0, 200.0, 842.0]] {
            let fixture = Fixture {
                media_box,
                ..Fixture::new(&[""])
            };
            let copy = stamp(&fixture.pdf(), &stamp_of()).unwrap();
            assert!(extract_text(&copy).unwrap().pages[0].contains(LINE));
            let Some(pages) = rasterise_at(&copy, 300) else {
                return;
            };
            assert_eq!(
                decode_all_luma(&pages[0]),
                vec![URL.to_string()],
                "{media_box:?}"
            );
        }
    }

    #[test]
    fn a_copy_of_a_copy_names_the_newer_original() {
        let copy = stamp(&Fixture::new(&["x"]).pdf(), &stamp_of()).unwrap();
        let other = "0".repeat(64);
        let again = stamp(
            &copy,
            &Stamp {
                original_sha256: &other,
                ..stamp_of()
            },
        )
        .unwrap();
        assert_eq!(stamped_original(&again), Some(other));
    }

    #[test]
    fn a_forged_marker_in_the_content_does_not_win() {
        let forged = format!(
            "BT /F1 9 Tf 10 10 Td (/HeritageAtlasOriginal ({})) Tj ET",
            "1".repeat(64)
        );
        let mut doc = Document::load_mem(&Fixture::new(&["x"]).pdf()).unwrap();
        let page = doc.page_iter().next().unwrap();
        doc.add_page_contents(page, forged.into_bytes()).unwrap();
        let mut pdf = Vec::new();
        doc.save_to(&mut pdf).unwrap();
        assert_eq!(stamped_original(&pdf), Some("1".repeat(64)));
        let copy = stamp(&pdf, &stamp_of()).unwrap();
        assert_eq!(stamped_original(&copy).as_deref(), Some(SHA));
    }

    #[test]
    fn stamped_original_reads_only_a_well_formed_marker() {
        let sha = SHA.to_uppercase();
        assert_eq!(
            stamped_original(format!("x/HeritageAtlasOriginal ({sha})>>").as_bytes()).as_deref(),
            Some(SHA)
        );
        assert_eq!(stamped_original(b"/HeritageAtlasOriginal (abc)"), None);
        assert_eq!(
            stamped_original(format!("/HeritageAtlasOriginal {SHA}").as_bytes()),
            None
        );
        assert_eq!(stamped_original(b"/HeritageAtlasOriginal"), None);
    }

    #[test]
    fn the_line_is_escaped_and_kept_ascii() {
        let line = "Copy (verified) \\ Kolkata \u{0995} done";
        let copy = stamp(&Fixture::new(&["x"]).pdf(), &Stamp { line, ..stamp_of() }).unwrap();
        let text = extract_text(&copy).unwrap();
        assert!(
            text.pages[0].contains("Copy (verified) \\ Kolkata ? done"),
            "{:?}",
            text.pages
        );
    }

    /// The fixture encrypted with RC4 (PDF 1.4's V2), as many issued PDFs are.
    fn encrypted(user_password: &str) -> Vec<u8> {
        let mut doc = Document::load_mem(&Fixture::new(&["Metcalfe Hall"]).pdf()).unwrap();
        let id = Object::String(b"0123456789abcdef".to_vec(), StringFormat::Hexadecimal);
        doc.trailer.set("ID", Object::Array(vec![id.clone(), id]));
        let version = lopdf::EncryptionVersion::V2 {
            document: &doc,
            owner_password: "owner",
            user_password,
            key_length: 128,
            permissions: lopdf::Permissions::PRINTABLE,
        };
        let state = lopdf::EncryptionState::try_from(version).unwrap();
        doc.encrypt(&state).unwrap();
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn restricted_pdfs_open_and_password_protected_ones_are_refused() {
        let open = encrypted("");
        assert!(extract_text(&open).unwrap().pages[0].contains("Metcalfe Hall"));
        let copy = stamp(&open, &stamp_of()).unwrap();
        let doc = Document::load_mem(&copy).unwrap();
        assert!(!doc.trailer.has(b"Encrypt"));
        let text = extract_text(&copy).unwrap();
        assert!(
            text.pages[0].contains("Metcalfe Hall") && text.pages[0].contains(LINE),
            "{text:?}"
        );

        let locked = encrypted("secret");
        assert!(extract_text(&locked).is_err());
        assert!(stamp(&locked, &stamp_of()).is_err());
    }

    #[test]
    fn a_png_becomes_a_stamped_page() {
        let mut png = Vec::new();
        let picture = image::RgbaImage::from_fn(300, 200, |x, y| {
            image::Rgba([
                (x % 256) as u8,
                (y % 256) as u8,
                128,
                if x < 20 { 0 } else { 255 },
            ])
        });
        picture
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let pdf = image_to_pdf(&png, "image/png", &stamp_of()).unwrap();
        check_picture_pdf(&pdf, "PNG");
        assert_eq!(pdf, image_to_pdf(&png, "image/png", &stamp_of()).unwrap());
    }

    #[test]
    fn a_jpeg_is_embedded_as_it_is() {
        let mut jpeg = Vec::new();
        let picture = image::RgbImage::from_fn(120, 240, |x, y| image::Rgb([x as u8, y as u8, 60]));
        picture
            .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
            .unwrap();
        let pdf = image_to_pdf(&jpeg, "image/jpeg; charset=binary", &stamp_of()).unwrap();
        check_picture_pdf(&pdf, "JPEG");
        let doc = Document::load_mem(&pdf).unwrap();
        let embedded = doc
            .objects
            .values()
            .filter_map(|o| o.as_stream().ok())
            .find(|s| s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image"))
            .unwrap();
        assert_eq!(embedded.content, jpeg);
        assert_eq!(embedded.dict.get(b"Width").unwrap().as_i64().unwrap(), 120);
        assert_eq!(embedded.dict.get(b"Height").unwrap().as_i64().unwrap(), 240);
    }

    #[test]
    fn bad_images_are_errors() {
        let s = stamp_of();
        assert!(image_to_pdf(b"\xFF\xD8\xFF\xE0\x00\x10JFIF", "image/jpeg", &s).is_err());
        assert!(image_to_pdf(b"\x89PNG\r\n\x1a\nxx", "image/png", &s).is_err());
        assert!(image_to_pdf(b"RIFF0000WEBP", "image/webp", &s).is_err());
        assert!(matches!(
            image_to_pdf(b"GIF89a", "image/gif", &s),
            Err(PdfError::Unsupported(_))
        ));
    }

    fn check_picture_pdf(pdf: &[u8], name: &str) {
        assert_eq!(page_count(pdf).unwrap(), 1, "{name}");
        assert_eq!(stamped_original(pdf).as_deref(), Some(SHA), "{name}");
        assert!(extract_text(pdf).unwrap().pages[0].contains(LINE), "{name}");
        let Some(pages) = rasterise(pdf) else { return };
        assert_scans_bottom_left(&pages[0], name);
    }

    /// The page's code decodes to the URL, and so does the bottom-left corner alone.
    fn assert_scans_bottom_left(page: &image::GrayImage, what: &str) {
        assert_eq!(
            decode_all_luma(page),
            vec![URL.to_string()],
            "{what}: whole page"
        );
        let (w, h) = page.dimensions();
        let (cw, ch) = (w.min(300), h.min(300));
        let corner = image::imageops::crop_imm(page, 0, h - ch, cw, ch).to_image();
        assert_eq!(
            decode_all_luma(&corner),
            vec![URL.to_string()],
            "{what}: bottom left"
        );
    }

    fn decode_all_luma(page: &image::GrayImage) -> Vec<String> {
        let (w, h) = page.dimensions();
        decode_all(w as usize, h as usize, page.as_raw())
    }

    /// Each page at 150 dpi (or `dpi`), as poppler draws it; zbarimg, where installed, must read the
    /// same code. None when the tools are missing and the run does not require them.
    fn rasterise(pdf: &[u8]) -> Option<Vec<image::GrayImage>> {
        rasterise_at(pdf, 150)
    }

    fn rasterise_at(pdf: &[u8], dpi: u32) -> Option<Vec<image::GrayImage>> {
        if Command::new("pdftoppm").arg("-v").output().is_err() {
            // As tests/suite/documents.rs: a fresh machine's `cargo test` says what it skipped;
            // CI (HERITAGE_ATLAS_REQUIRE_TOOLS=1, after scripts/install-deps.sh) fails.
            assert!(
                std::env::var_os("HERITAGE_ATLAS_REQUIRE_TOOLS").is_none(),
                "pdftoppm is missing: run scripts/install-deps.sh"
            );
            eprintln!("!!!!! SKIPPED: pdftoppm is missing, stamped QR codes NOT checked !!!!!");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.pdf");
        std::fs::write(&input, pdf).unwrap();
        let status = Command::new("pdftoppm")
            .args(["-r", &dpi.to_string(), "-png"])
            .arg(&input)
            .arg(dir.path().join("page"))
            .status()
            .unwrap();
        assert!(status.success(), "pdftoppm failed");
        let mut files: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| {
                let path = e.ok()?.path();
                let stem = path
                    .file_stem()?
                    .to_str()?
                    .strip_prefix("page-")?
                    .parse()
                    .ok()?;
                Some((stem, path))
            })
            .collect();
        files.sort();
        files.iter().for_each(|(_, path)| zbar_agrees(path));
        Some(
            files
                .iter()
                .map(|(_, path)| image::open(path).unwrap().to_luma8())
                .collect(),
        )
    }

    fn zbar_agrees(png: &Path) {
        let Ok(out) = Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(png)
            .output()
        else {
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.lines().any(|l| l == URL),
            "zbarimg read {text:?} in {png:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
            survive(&bytes);
        }

        #[test]
        fn mutated_pdfs_never_panic(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
            keep in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut pdf = Fixture::new(&["Howrah Bridge", "Marble Palace"]).pdf();
            for (at, byte) in flips {
                let i = at.index(pdf.len());
                pdf[i] = byte;
            }
            if truncate {
                pdf.truncate(keep.index(pdf.len()));
            }
            survive(&pdf);
        }
    }

    fn survive(bytes: &[u8]) {
        let _ = extract_text(bytes);
        let _ = page_count(bytes);
        let _ = stamp(bytes, &stamp_of());
        let _ = stamped_original(bytes);
        let _ = image_to_pdf(bytes, "image/jpeg", &stamp_of());
        let _ = image_to_pdf(bytes, "image/png", &stamp_of());
        let _ = image_to_pdf(bytes, "image/webp", &stamp_of());
    }
}
