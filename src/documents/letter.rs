//! Decision letters on heritage sanction applications, made as PDFs: the English letter on
//! the first page, the Bengali one from the next page on, from structured text (a heading,
//! a title, paragraphs). Pure: no HTTP, no SQL, and the same text gives the same bytes, so a
//! letter can be made again and verified like any stamped document ([`super::pdf::stamp`]).
//!
//! Bengali needs shaping: a vowel sign written after its consonant is drawn before it (কি),
//! consonants with a virama join into conjuncts (ক্ষ, দ্ধ), ra becomes a reph above the
//! syllable. `rustybuzz` (HarfBuzz's shaper in Rust) does that, one run per font: text is cut
//! into runs of Bengali (Noto Sans Bengali) and everything else (Noto Sans), so application
//! numbers and dates in a Bengali letter are set in the Latin font they were typed in.
//!
//! Each font is embedded as a subset (`subsetter`) in a Type0 font with Identity-H encoding.
//! The codes written in the content are not glyph numbers but *our* codes, one per pair of
//! glyph and the text it stands for, mapped to glyphs by a `/CIDToGIDMap` and to text by the
//! `/ToUnicode` CMap. That is what lets text be extracted in the order it was written although
//! the glyphs are drawn in another: in কি the vowel sign's glyph comes first, so it carries
//! the whole cluster's text "কি" and the consonant's glyph carries none. The same vowel-sign
//! glyph elsewhere, in মি say, is another code with other text. Poppler (pdftotext) ends a
//! word at a glyph with no text, so a cluster drawn as more than one glyph is also wrapped
//! in a marked-content span whose `/ActualText` is the cluster's text, which poppler reads
//! in place of the glyphs' own; pdf-extract ignores the span and reads the codes.
//!
//! Lines are broken at spaces by the shaped advance widths (a word wider than a line is cut
//! between clusters, never inside one). The bottom [`CLEAR_BOTTOM_PT`] of every page is left
//! empty for the QR code and line that [`super::pdf::stamp`] draws there.
//!
//! The text comes from fields staff fill in, so it is capped: [`MAX_TEXT_BYTES`] per
//! language and [`MAX_PAGES`] in all; past either, [`PdfError::TooLarge`].

use std::collections::HashMap;
use std::fmt::Write as _;

use lopdf::{dictionary, Dictionary, Document, Object, ObjectId, Stream, StringFormat};
use rustybuzz::{script, Direction, Face, UnicodeBuffer};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;

use super::pdf::PdfError;

/// One language's letter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LetterText {
    /// Who writes, e.g. "Kolkata Municipal Corporation — Environment & Heritage Department".
    pub heading: String,
    /// What the letter decides, e.g. "Heritage sanction: approved".
    pub title: String,
    /// Plain text paragraphs, wrapped to the page; any run of white space is one space.
    pub paragraphs: Vec<String>,
}

/// The most text one language's letter may hold, heading and title included (UTF-8 bytes).
/// A long decision with its conditions runs to a few KiB; this is room for twenty pages.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The most pages a letter may run to, both languages together.
pub const MAX_PAGES: usize = 50;

/// The height at the bottom of every page that no text enters. `pdf::stamp` draws its QR
/// code 6 pt from the edge in a block of 1.5 pt modules: 73.5 pt for the 41-module code of
/// a verification URL up to 106 bytes, 79.5 pt for 45 modules (122 bytes), so the stamp
/// reaches at most 85.5 pt up for the URLs the server makes.
pub const CLEAR_BOTTOM_PT: f64 = 90.0;

/// A4 portrait, as `pdf.rs` sets image documents.
const PAGE_W: f64 = 595.0;
const PAGE_H: f64 = 842.0;
const MARGIN: f64 = 56.0;
const TEXT_W: f64 = PAGE_W - 2.0 * MARGIN;

const HEADING_PT: f64 = 12.0;
const TITLE_PT: f64 = 16.0;
const BODY_PT: f64 = 11.0;
/// Line height as a multiple of the type size: room for Bengali's vowel signs above the
/// headline and below the baseline, which reach further than Latin letters.
const LEADING: f64 = 1.65;
/// How far the baseline sits below the top of its line, in ems.
const BASELINE_DROP: f64 = 1.2;

const LATIN_TTF: &[u8] = include_bytes!("../../data/fonts/NotoSans-Regular.ttf");
const BENGALI_TTF: &[u8] = include_bytes!("../../data/fonts/NotoSansBengali-Regular.ttf");

/// Makes the letter: page 1 English, page 2 Bengali (more pages if either runs over).
///
/// ```
/// use heritage_atlas::documents::letter::{letter_pdf, LetterText};
///
/// let en = LetterText {
///     heading: "Kolkata Municipal Corporation".into(),
///     title: "Heritage sanction: approved".into(),
///     paragraphs: vec!["Application HS-2026-000123 is approved.".into()],
/// };
/// let bn = LetterText {
///     heading: "কলকাতা পৌর নিগম".into(),
///     title: "ঐতিহ্য অনুমোদন: অনুমোদিত".into(),
///     paragraphs: vec!["আবেদন নং HS-2026-000123 অনুমোদিত।".into()],
/// };
/// let pdf = letter_pdf(&en, &bn)?;
/// assert!(pdf.starts_with(b"%PDF-"));
/// assert_eq!(pdf, letter_pdf(&en, &bn)?);
/// # Ok::<(), heritage_atlas::documents::pdf::PdfError>(())
/// ```
pub fn letter_pdf(en: &LetterText, bn: &LetterText) -> Result<Vec<u8>, PdfError> {
    check_size(en, "English")?;
    check_size(bn, "Bengali")?;
    let fonts = Fonts::load()?;
    let mut setter = Typesetter::new(&fonts);
    for letter in [en, bn] {
        setter.letter(letter)?;
    }
    write_pdf(&fonts, &setter.pages, &en.title)
}

fn check_size(letter: &LetterText, language: &str) -> Result<(), PdfError> {
    // A paragraph counts one byte for its break, so a million empty ones are refused too.
    let bytes = letter.heading.len()
        + letter.title.len()
        + letter.paragraphs.iter().map(|p| p.len() + 1).sum::<usize>();
    if bytes > MAX_TEXT_BYTES {
        return Err(PdfError::TooLarge(format!(
            "the {language} letter has {bytes} bytes of text; at most {MAX_TEXT_BYTES} fit"
        )));
    }
    Ok(())
}

/// The two embedded fonts, indexed by [`FontId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FontId {
    Latin = 0,
    Bengali = 1,
}

impl FontId {
    const ALL: [FontId; 2] = [FontId::Latin, FontId::Bengali];

    fn other(self) -> FontId {
        match self {
            FontId::Latin => FontId::Bengali,
            FontId::Bengali => FontId::Latin,
        }
    }
}

struct Font {
    data: &'static [u8],
    face: Face<'static>,
    /// The PostScript name, after the subset tag in `/BaseFont`.
    name: &'static str,
    /// The name in the pages' font resources.
    resource: &'static str,
    units_per_em: f64,
}

struct Fonts([Font; 2]);

impl std::ops::Index<FontId> for Fonts {
    type Output = Font;

    fn index(&self, id: FontId) -> &Font {
        &self.0[id as usize]
    }
}

impl Fonts {
    fn load() -> Result<Fonts, PdfError> {
        let font = |data: &'static [u8], name, resource| {
            let face = Face::from_slice(data, 0)
                .ok_or_else(|| PdfError::Internal(format!("the embedded {name} does not parse")))?;
            let units_per_em = f64::from(face.units_per_em());
            Ok::<_, PdfError>(Font {
                data,
                face,
                name,
                resource,
                units_per_em,
            })
        };
        Ok(Fonts([
            font(LATIN_TTF, "NotoSans-Regular", "F1")?,
            font(BENGALI_TTF, "NotoSansBengali-Regular", "F2")?,
        ]))
    }

    fn has(&self, id: FontId, c: char) -> bool {
        self[id].face.glyph_index(c).is_some()
    }

    /// The font a character is set in, given the one before it.
    fn for_char(&self, c: char, previous: Option<FontId>) -> FontId {
        let preferred = match c {
            // Spaces and joiners belong to the run they are in, so a Bengali sentence is
            // shaped as one run.
            ' ' | '\u{200C}' | '\u{200D}' => previous.unwrap_or(FontId::Latin),
            // The Bengali block, the dandas (shared with Devanagari, in the Bengali font),
            // and the dotted circle HarfBuzz puts under a stray vowel sign.
            '\u{0980}'..='\u{09FF}' | '\u{0964}' | '\u{0965}' | '\u{25CC}' => FontId::Bengali,
            _ => FontId::Latin,
        };
        if self.has(preferred, c) || !self.has(preferred.other(), c) {
            preferred
        } else {
            preferred.other()
        }
    }
}

/// One shaped glyph. Lengths are in ems of the type size.
#[derive(Debug, Clone)]
struct Glyph {
    font: FontId,
    gid: u16,
    advance: f64,
    dx: f64,
    dy: f64,
    /// The text this glyph stands for in extracted text: its cluster's text for the first
    /// glyph drawn of a cluster, nothing for the others.
    text: String,
    /// The first glyph of its cluster: where a too-long word may be cut.
    cluster_start: bool,
    /// A space between words: where a line may break, and dropped there.
    space: bool,
}

/// Shapes one paragraph's text (white space already made single spaces).
fn shape(fonts: &Fonts, text: &str) -> Vec<Glyph> {
    let mut glyphs = Vec::with_capacity(text.len());
    for (font_id, run) in runs(fonts, text) {
        let font = &fonts[font_id];
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(run);
        buffer.set_direction(Direction::LeftToRight);
        buffer.set_script(match font_id {
            FontId::Latin => script::LATIN,
            FontId::Bengali => script::BENGALI,
        });
        let shaped = rustybuzz::shape(&font.face, &[], buffer);
        let infos = shaped.glyph_infos();
        let positions = shaped.glyph_positions();
        let em = |units: i32| f64::from(units) / font.units_per_em;
        let mut i = 0;
        while i < infos.len() {
            // Clusters are monotone left to right (HarfBuzz's default cluster level), so a
            // cluster's glyphs are together and its text runs to the next cluster's start.
            let start = infos[i].cluster;
            let len = infos[i..].iter().take_while(|g| g.cluster == start).count();
            let end = infos
                .get(i + len)
                .map_or(run.len(), |next| next.cluster as usize);
            let cluster = run.get(start as usize..end).unwrap_or_default();
            for (k, (info, pos)) in infos[i..i + len]
                .iter()
                .zip(&positions[i..i + len])
                .enumerate()
            {
                glyphs.push(Glyph {
                    font: font_id,
                    // Glyph ids are 16-bit in OpenType; HarfBuzz's u32 holds nothing more.
                    gid: u16::try_from(info.glyph_id).unwrap_or(0),
                    advance: em(pos.x_advance),
                    dx: em(pos.x_offset),
                    dy: em(pos.y_offset),
                    text: if k == 0 {
                        cluster.to_string()
                    } else {
                        String::new()
                    },
                    cluster_start: k == 0,
                    space: k == 0 && cluster == " ",
                });
            }
            i += len;
        }
    }
    glyphs
}

/// The text cut into runs of one font each.
fn runs<'t>(fonts: &Fonts, text: &'t str) -> Vec<(FontId, &'t str)> {
    let mut runs = Vec::new();
    let mut current: Option<(FontId, usize)> = None;
    for (at, c) in text.char_indices() {
        let font = fonts.for_char(c, current.map(|(f, _)| f));
        match current {
            Some((f, _)) if f == font => {}
            Some((f, start)) => {
                runs.push((f, &text[start..at]));
                current = Some((font, at));
            }
            None => current = Some((font, at)),
        }
    }
    if let Some((f, start)) = current {
        runs.push((f, &text[start..]));
    }
    runs
}

/// Runs of white space as one space; control characters dropped.
fn plain(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Greedy line breaking: each line as a range of `glyphs`, at most `max` ems wide unless a
/// single cluster is wider. Spaces at a break are dropped.
fn break_lines(glyphs: &[Glyph], max: f64) -> Vec<std::ops::Range<usize>> {
    let width = |r: std::ops::Range<usize>| glyphs[r].iter().map(|g| g.advance).sum::<f64>();
    let word_end = |from: usize| {
        (from..glyphs.len())
            .find(|&i| glyphs[i].space)
            .unwrap_or(glyphs.len())
    };
    let skip_spaces = |from: usize| {
        (from..glyphs.len())
            .find(|&i| !glyphs[i].space)
            .unwrap_or(glyphs.len())
    };
    // Spaces start clusters of their own, so a cluster never runs past its word.
    let cluster_end = |from: usize| {
        (from + 1..glyphs.len())
            .find(|&i| glyphs[i].cluster_start)
            .unwrap_or(glyphs.len())
    };
    let mut lines = Vec::new();
    let mut start = skip_spaces(0);
    while start < glyphs.len() {
        let first_end = word_end(start);
        let mut end;
        if width(start..first_end) <= max {
            end = first_end;
            let mut used = width(start..end);
            loop {
                let next = skip_spaces(end);
                if next == glyphs.len() {
                    break;
                }
                let next_end = word_end(next);
                let more = width(end..next_end);
                if used + more > max {
                    break;
                }
                used += more;
                end = next_end;
            }
        } else {
            // A word wider than the line: as many whole clusters as fit, and at least one.
            end = cluster_end(start);
            let mut used = width(start..end);
            while end < first_end {
                let next = cluster_end(end);
                let more = width(end..next);
                if used + more > max {
                    break;
                }
                used += more;
                end = next;
            }
        }
        lines.push(start..end);
        start = skip_spaces(end);
    }
    lines
}

/// A line set on a page.
#[derive(Debug)]
struct Line {
    size: f64,
    /// The baseline's height from the page's bottom.
    baseline: f64,
    glyphs: Vec<Glyph>,
}

#[derive(Debug, Default)]
struct Page {
    lines: Vec<Line>,
    /// Horizontal rules across the text width, at these heights.
    rules: Vec<f64>,
}

/// Sets letters onto pages, top to bottom.
struct Typesetter<'f> {
    fonts: &'f Fonts,
    pages: Vec<Page>,
    /// The top of the next line, from the page's bottom.
    y: f64,
}

impl<'f> Typesetter<'f> {
    fn new(fonts: &'f Fonts) -> Typesetter<'f> {
        Typesetter {
            fonts,
            pages: Vec::new(),
            y: 0.0,
        }
    }

    /// One language's letter, starting on a new page.
    fn letter(&mut self, letter: &LetterText) -> Result<(), PdfError> {
        self.new_page()?;
        self.paragraph(&letter.heading, HEADING_PT)?;
        self.y -= 4.0;
        self.rule()?;
        self.y -= 10.0;
        self.paragraph(&letter.title, TITLE_PT)?;
        self.y -= 8.0;
        for paragraph in &letter.paragraphs {
            self.paragraph(paragraph, BODY_PT)?;
            self.y -= 0.5 * BODY_PT;
        }
        Ok(())
    }

    fn new_page(&mut self) -> Result<(), PdfError> {
        if self.pages.len() == MAX_PAGES {
            return Err(PdfError::TooLarge(format!(
                "the letter runs past {MAX_PAGES} pages"
            )));
        }
        self.pages.push(Page::default());
        self.y = PAGE_H - MARGIN;
        Ok(())
    }

    fn paragraph(&mut self, text: &str, size: f64) -> Result<(), PdfError> {
        let glyphs = shape(self.fonts, &plain(text));
        let lines = break_lines(&glyphs, TEXT_W / size);
        if lines.is_empty() {
            // An empty paragraph is a blank line: staff may mean the gap.
            return self.line(Vec::new(), size);
        }
        for range in lines {
            self.line(glyphs[range].to_vec(), size)?;
        }
        Ok(())
    }

    fn line(&mut self, glyphs: Vec<Glyph>, size: f64) -> Result<(), PdfError> {
        let height = LEADING * size;
        if self.y - height < CLEAR_BOTTOM_PT {
            self.new_page()?;
        }
        let baseline = self.y - BASELINE_DROP * size;
        self.y -= height;
        if let Some(page) = self.pages.last_mut() {
            page.lines.push(Line {
                size,
                baseline,
                glyphs,
            });
        }
        Ok(())
    }

    fn rule(&mut self) -> Result<(), PdfError> {
        if self.y - 1.0 < CLEAR_BOTTOM_PT {
            self.new_page()?;
        }
        let y = self.y;
        if let Some(page) = self.pages.last_mut() {
            page.rules.push(y);
        }
        Ok(())
    }
}

/// One font's codes: code `n` is `entries[n - 1]` (code 0 is left to `.notdef`).
#[derive(Debug, Default)]
struct Codes {
    by_key: HashMap<Code, u16>,
    entries: Vec<Code>,
}

/// What a code stands for: a glyph, the pen's move after it, the text it carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Code {
    gid: u16,
    /// The code's `/W` width, in thousandths of an em: the glyph's shaped advance less its
    /// offset, so the pen ends where the next glyph starts. A mark set 3 pt left of the pen
    /// with no advance is 3 pt wide: extractors that take a gap between one glyph's end and
    /// the next glyph's start for a space (pdf-extract does) see none.
    width: i64,
    text: String,
}

impl Codes {
    fn code(&mut self, key: Code) -> Result<u16, PdfError> {
        if let Some(&code) = self.by_key.get(&key) {
            return Ok(code);
        }
        let code = u16::try_from(self.entries.len() + 1).map_err(|_| {
            PdfError::TooLarge("the letter uses more distinct glyphs than a font can".into())
        })?;
        self.by_key.insert(key.clone(), code);
        self.entries.push(key);
        Ok(code)
    }
}

/// Writes one page's drawing, giving codes to the glyphs it uses.
struct Pen<'f> {
    fonts: &'f Fonts,
    codes: [Codes; 2],
    out: Vec<u8>,
    /// The font and size set, and the text rise.
    font: Option<(FontId, f64)>,
    rise: f64,
    in_array: bool,
    in_string: bool,
}

impl<'f> Pen<'f> {
    fn page(&mut self, page: &Page) -> Result<Vec<u8>, PdfError> {
        self.out.clear();
        self.font = None;
        self.rise = 0.0;
        for y in &page.rules {
            let _ = writeln!(
                Bytes(&mut self.out),
                "0.5 w {} {} m {} {} l S",
                num(MARGIN),
                num(*y),
                num(PAGE_W - MARGIN),
                num(*y)
            );
        }
        self.out.extend_from_slice(b"BT\n");
        for line in &page.lines {
            self.line(line)?;
        }
        self.out.extend_from_slice(b"ET\n");
        Ok(std::mem::take(&mut self.out))
    }

    fn line(&mut self, line: &Line) -> Result<(), PdfError> {
        let size = line.size;
        let _ = writeln!(
            Bytes(&mut self.out),
            "1 0 0 1 {} {} Tm",
            num(MARGIN),
            num(line.baseline)
        );
        // Where the pen should be (from the shaping) and where the PDF's pen is, in points
        // from the line's start. A glyph with an offset is moved there by a TJ adjustment in
        // whole thousandths of an em, measured from where the PDF's pen is, so rounding
        // never adds up along the line.
        let (mut pen, mut at) = (0.0, 0.0);
        // Glyphs left in the open `/ActualText` span.
        let mut in_span = 0;
        for (i, glyph) in line.glyphs.iter().enumerate() {
            if glyph.cluster_start {
                let glyphs = 1 + line.glyphs[i + 1..]
                    .iter()
                    .take_while(|g| !g.cluster_start)
                    .count();
                if glyphs > 1 {
                    // Poppler ends a word at a glyph that maps to no text, so a cluster of
                    // several glyphs is also given its text whole, as the span's.
                    self.close_array();
                    let _ = writeln!(
                        Bytes(&mut self.out),
                        "/Span << /ActualText {} >> BDC",
                        utf16_hex(&glyph.text)
                    );
                    in_span = glyphs;
                }
            }
            if self.font != Some((glyph.font, size)) {
                self.close_array();
                let _ = writeln!(
                    Bytes(&mut self.out),
                    "/{} {} Tf",
                    self.fonts[glyph.font].resource,
                    num(size)
                );
                self.font = Some((glyph.font, size));
            }
            let rise = glyph.dy * size;
            if (rise - self.rise).abs() > 0.001 {
                self.close_array();
                let _ = writeln!(Bytes(&mut self.out), "{} Ts", num(rise));
                self.rise = rise;
            }
            let target = pen + glyph.dx * size;
            let adjust = ((at - target) * 1000.0 / size).round();
            if adjust != 0.0 {
                self.open_array();
                self.close_string();
                let _ = write!(Bytes(&mut self.out), "{}", adjust as i64);
                at -= adjust * size / 1000.0;
            }
            let width = ((glyph.advance - glyph.dx) * 1000.0).round() as i64;
            let code = self.codes[glyph.font as usize].code(Code {
                gid: glyph.gid,
                width,
                text: glyph.text.clone(),
            })?;
            self.open_array();
            if !self.in_string {
                self.out.push(b'<');
                self.in_string = true;
            }
            let _ = write!(Bytes(&mut self.out), "{code:04X}");
            at += width as f64 * size / 1000.0;
            pen += glyph.advance * size;
            if in_span > 0 {
                in_span -= 1;
                if in_span == 0 {
                    self.close_array();
                    self.out.extend_from_slice(b"EMC\n");
                }
            }
        }
        self.close_array();
        Ok(())
    }

    fn open_array(&mut self) {
        if !self.in_array {
            self.out.push(b'[');
            self.in_array = true;
        }
    }

    fn close_string(&mut self) {
        if self.in_string {
            self.out.push(b'>');
            self.in_string = false;
        }
    }

    fn close_array(&mut self) {
        self.close_string();
        if self.in_array {
            self.out.extend_from_slice(b"] TJ\n");
            self.in_array = false;
        }
    }
}

/// `write!` into a byte buffer.
struct Bytes<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn write_pdf(fonts: &Fonts, pages: &[Page], title: &str) -> Result<Vec<u8>, PdfError> {
    let mut pen = Pen {
        fonts,
        codes: [Codes::default(), Codes::default()],
        out: Vec::new(),
        font: None,
        rise: 0.0,
        in_array: false,
        in_string: false,
    };
    let drawings = pages
        .iter()
        .map(|page| pen.page(page))
        .collect::<Result<Vec<_>, _>>()?;

    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let mut font_resources = Dictionary::new();
    for id in FontId::ALL {
        let codes = &pen.codes[id as usize];
        if !codes.entries.is_empty() {
            let font = embed(&mut doc, &fonts[id], codes)?;
            font_resources.set(fonts[id].resource, Object::Reference(font));
        }
    }
    let resources = doc.add_object(dictionary! { "Font" => font_resources });
    let mut kids = Vec::with_capacity(drawings.len());
    for drawing in drawings {
        let contents = doc.add_object(compressed(Dictionary::new(), drawing));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), (PAGE_W as i64).into(), (PAGE_H as i64).into()],
            "Resources" => resources,
            "Contents" => contents,
        })));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    let info = doc.add_object(dictionary! {
        "Title" => text_string(title),
        "Producer" => Object::string_literal("heritage-atlas"),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| PdfError::Internal(format!("writing the letter: {e}")))?;
    Ok(out)
}

/// Embeds the subset of `font` that `codes` use as a Type0 font; its id.
fn embed(doc: &mut Document, font: &Font, codes: &Codes) -> Result<ObjectId, PdfError> {
    let gids: Vec<u16> = codes.entries.iter().map(|c| c.gid).collect();
    let remapper = GlyphRemapper::new_from_glyphs_sorted(&gids);
    let subset = subsetter::subset(font.data, 0, &remapper)
        .map_err(|e| PdfError::Internal(format!("subsetting {}: {e}", font.name)))?;
    // The tag PDF asks of a subset (six capitals), from its bytes: the same for the same
    // glyphs, different for different ones.
    let digest = Sha256::digest(&subset);
    let tag: String = digest[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    let base_font = format!("{tag}+{}", font.name);

    let face = &font.face;
    let scale = |v: i16| (f64::from(v) * 1000.0 / font.units_per_em).round() as i64;
    let bbox = face.global_bounding_box();
    let length = subset.len() as i64;
    let file = doc.add_object(compressed(dictionary! { "Length1" => length }, subset));
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => Object::Name(base_font.clone().into_bytes()),
        // Symbolic: the glyphs are named by code, not by a standard encoding.
        "Flags" => 4,
        "FontBBox" => vec![scale(bbox.x_min).into(), scale(bbox.y_min).into(), scale(bbox.x_max).into(), scale(bbox.y_max).into()],
        "ItalicAngle" => 0,
        "Ascent" => scale(face.ascender()),
        "Descent" => scale(face.descender()),
        "CapHeight" => scale(face.capital_height().unwrap_or(face.ascender())),
        "StemV" => 80,
        "FontFile2" => file,
    });

    let mut cid_to_gid = vec![0u8; 2 * (codes.entries.len() + 1)];
    for (i, c) in codes.entries.iter().enumerate() {
        let new = remapper.get(c.gid).unwrap_or(0);
        cid_to_gid[2 * (i + 1)..2 * (i + 2)].copy_from_slice(&new.to_be_bytes());
    }
    let cid_to_gid = doc.add_object(compressed(Dictionary::new(), cid_to_gid));
    let widths: Vec<Object> = codes.entries.iter().map(|c| c.width.into()).collect();
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => Object::Name(base_font.clone().into_bytes()),
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor,
        "DW" => 0,
        // One run from code 1: pdf-extract reads only this form of /W.
        "W" => vec![1.into(), Object::Array(widths)],
        "CIDToGIDMap" => cid_to_gid,
    });
    let to_unicode = doc.add_object(compressed(Dictionary::new(), to_unicode(codes)));
    Ok(doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => Object::Name(base_font.into_bytes()),
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![descendant.into()],
        "ToUnicode" => to_unicode,
    }))
}

/// The `/ToUnicode` CMap: each code to its text in UTF-16BE.
fn to_unicode(codes: &Codes) -> Vec<u8> {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let mapped: Vec<(usize, &String)> = codes
        .entries
        .iter()
        .enumerate()
        .map(|(i, c)| (i + 1, &c.text))
        .collect();
    // At most 100 entries a block, as the CMap format asks.
    for block in mapped.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfchar", block.len());
        for (code, text) in block {
            let _ = write!(cmap, "<{code:04X}> <");
            for unit in text.encode_utf16() {
                let _ = write!(cmap, "{unit:04X}");
            }
            cmap.push_str(">\n");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap.into_bytes()
}

/// A PDF text string: PDFDocEncoding agrees with ASCII; anything else goes as UTF-16BE.
fn text_string(text: &str) -> Object {
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        Object::string_literal(text)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// A text string in UTF-16BE with its byte order mark, as hex.
fn utf16_hex(text: &str) -> String {
    let mut hex = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(hex, "{unit:04X}");
    }
    hex.push('>');
    hex
}

/// A stream, Flate-compressed.
fn compressed(dict: Dictionary, content: Vec<u8>) -> Stream {
    let mut stream = Stream::new(dict, content);
    // Compression cannot fail on a Vec; if it did, the plain stream is as good.
    let _ = stream.compress();
    stream
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::pdf::{self, Stamp};
    use crate::documents::qr::tests::decode_all;
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use unicode_normalization::UnicodeNormalization;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const URL: &str = "https://atlas.example.in/verify/\
                       9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const LINE: &str = "Verified copy of 9f86d081884c: see atlas.example.in/verify (KMC Heritage)";

    fn english() -> LetterText {
        LetterText {
            heading: "Kolkata Municipal Corporation — Environment & Heritage Department".into(),
            title: "Heritage sanction: approved".into(),
            paragraphs: vec![
                "Application HS-2026-000123, received on 2026-11-02 for repairs to the \
                 facade of 12 Jorasanko Lane (Grade IIA), has been approved by the Heritage \
                 Conservation Committee at its meeting of 2026-11-20."
                    .into(),
                "Conditions: the original lime plaster and the timber louvres of the first \
                 floor are to be kept; any replacement must match them in material and \
                 profile. Work is to be finished by 2026-12-01."
                    .into(),
                "This decision may be verified with the QR code below.".into(),
            ],
        }
    }

    fn bengali() -> LetterText {
        LetterText {
            heading: "কলকাতা পৌর নিগম — পরিবেশ ও ঐতিহ্য বিভাগ".into(),
            title: "ঐতিহ্য অনুমোদন: অনুমোদিত".into(),
            paragraphs: vec![
                "আবেদন নং HS-2026-000123, তারিখ 2026-11-02, জোড়াসাঁকো লেনের ১২ নং ভবনের \
                 (শ্রেণি IIA) সম্মুখভাগ মেরামতের জন্য ঐতিহ্য সংরক্ষণ কমিটি ২০২৬-১১-২০ \
                 তারিখের সভায় অনুমোদিত করেছে।"
                    .into(),
                "শর্তাবলি: প্রথম তলার চুনের পলেস্তারা ও কাঠের খড়খড়ি রাখতে হবে; কোনো \
                 কিছু বদলাতে হলে উপাদান ও গড়নে মিলিয়ে করতে হবে। এই সিদ্ধান্ত \
                 2026-12-01 পর্যন্ত বৈধ। কি ক্ষতি হয়েছে তার বিবরণ স্বাক্ষরসহ জমা দিতে হবে।"
                    .into(),
            ],
        }
    }

    /// White space as single spaces, and NFC (what text is compared in).
    fn words(text: &str) -> String {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .nfc()
            .collect()
    }

    fn assert_has(page: &str, wanted: &[&str], what: &str) {
        let page = words(page);
        for w in wanted {
            assert!(page.contains(&words(w)), "{what}: {w:?} not in {page:?}");
        }
    }

    /// Whether an outside tool can run; a run that requires the tools
    /// (HERITAGE_ATLAS_REQUIRE_TOOLS=1, as CI sets after scripts/install-deps.sh) fails.
    fn have(tool: &str) -> bool {
        if Command::new(tool).arg("-v").output().is_ok() {
            return true;
        }
        assert!(
            std::env::var_os("HERITAGE_ATLAS_REQUIRE_TOOLS").is_none(),
            "{tool} is missing: run scripts/install-deps.sh"
        );
        eprintln!("!!!!! SKIPPED: {tool} is missing, letters NOT checked with it !!!!!");
        false
    }

    /// pdftotext's text of each page (poppler ends every page with a form feed).
    fn pdftotext(pdf: &[u8]) -> Option<Vec<String>> {
        if !have("pdftotext") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("letter.pdf");
        std::fs::write(&input, pdf).unwrap();
        let out = Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(&input)
            .arg("-")
            .output()
            .unwrap();
        assert!(out.status.success(), "pdftotext failed: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let mut pages: Vec<String> = text.split('\x0c').map(str::to_string).collect();
        pages.pop();
        Some(pages)
    }

    /// Each page as poppler draws it at `dpi`, in greyscale.
    fn rasterise(pdf: &[u8], dpi: u32) -> Option<Vec<image::GrayImage>> {
        if !have("pdftoppm") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let files = pdftoppm(pdf, dpi, dir.path());
        Some(
            files
                .iter()
                .map(|path| image::open(path).unwrap().to_luma8())
                .collect(),
        )
    }

    /// The pages as PNG files in `dir`, in page order.
    fn pdftoppm(pdf: &[u8], dpi: u32, dir: &Path) -> Vec<PathBuf> {
        let input = dir.join("letter.pdf");
        std::fs::write(&input, pdf).unwrap();
        let status = Command::new("pdftoppm")
            .args(["-r", &dpi.to_string(), "-png"])
            .arg(&input)
            .arg(dir.join("page"))
            .status()
            .unwrap();
        assert!(status.success(), "pdftoppm failed");
        let mut files: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let path = e.ok()?.path();
                let n = path
                    .file_stem()?
                    .to_str()?
                    .strip_prefix("page-")?
                    .parse()
                    .ok()?;
                Some((n, path))
            })
            .collect();
        files.sort();
        files.into_iter().map(|(_, path)| path).collect()
    }

    fn stamp_of() -> Stamp<'static> {
        Stamp {
            url: URL,
            line: LINE,
            original_sha256: SHA,
        }
    }

    /// The sample letters with `n` numbered conditions more.
    fn long(n: usize) -> (LetterText, LetterText) {
        let (mut en, mut bn) = (english(), bengali());
        let en_condition = en.paragraphs[1].clone();
        en.paragraphs
            .extend((1..=n).map(|i| format!("Condition {i}: {en_condition}")));
        let bn_condition = bn.paragraphs[1].clone();
        bn.paragraphs
            .extend((1..=n).map(|i| format!("শর্ত {i}: {bn_condition}")));
        (en, bn)
    }

    #[test]
    fn text_comes_back_through_pdf_extract() {
        let pdf = letter_pdf(&english(), &bengali()).unwrap();
        let text = pdf::extract_text(&pdf).unwrap();
        assert_eq!(text.pages.len(), 2, "{text:?}");
        let en = english();
        let mut wanted = vec![en.heading.as_str(), en.title.as_str()];
        wanted.extend(en.paragraphs.iter().map(String::as_str));
        assert_has(&text.pages[0], &wanted, "English, pdf-extract");
        assert!(!text.pages[0].contains("অনুমোদিত"));

        // Every word, in order, exactly as written: the codes carry whole clusters.
        let bn = bengali();
        let mut wanted = vec![bn.heading.as_str(), bn.title.as_str()];
        wanted.extend(bn.paragraphs.iter().map(String::as_str));
        wanted.extend(["অনুমোদিত", "সিদ্ধান্ত", "শ্রেণি", "কি", "ক্ষতি"]);
        wanted.extend(["HS-2026-000123", "2026-12-01"]);
        assert_has(&text.pages[1], &wanted, "Bengali, pdf-extract");
        assert!(!text.pages[1].contains("approved"));
    }

    #[test]
    fn text_comes_back_through_pdftotext() {
        let pdf = letter_pdf(&english(), &bengali()).unwrap();
        let Some(pages) = pdftotext(&pdf) else { return };
        assert_eq!(pages.len(), 2, "{pages:?}");
        let en = english();
        let mut wanted = vec![en.heading.as_str(), en.title.as_str()];
        wanted.extend(en.paragraphs.iter().map(String::as_str));
        assert_has(&pages[0], &wanted, "English, pdftotext");

        // Poppler ends a word at a glyph with no text, as the second glyph of কি has: the
        // /ActualText spans are what give it কি whole (without them it printed "ক ি"-like
        // splits), so the plain words and the whole paragraphs come back, NFC as typed.
        let bn = bengali();
        let mut wanted = vec![bn.heading.as_str(), bn.title.as_str()];
        wanted.extend(bn.paragraphs.iter().map(String::as_str));
        wanted.extend(["অনুমোদিত", "সিদ্ধান্ত", "শ্রেণি", "HS-2026-000123", "2026-12-01"]);
        assert_has(&pages[1], &wanted, "Bengali, pdftotext");
        // Not merely after normalising: the words as typed are in poppler's own output.
        for w in ["অনুমোদিত", "সিদ্ধান্ত", "শ্রেণি", "কোনো"]
        {
            assert!(pages[1].contains(w), "{w:?} not in {:?}", pages[1]);
        }
    }

    #[test]
    fn bengali_is_shaped() {
        let fonts = Fonts::load().unwrap();
        let bengali = &fonts[FontId::Bengali].face;
        let nominal = |c: char| bengali.glyph_index(c).unwrap().0;
        // Noto Sans Bengali names its glyphs: "kabeng", "ivowelsignbeng", "kassabeng".
        let name = |gid: u16| {
            bengali
                .glyph_name(rustybuzz::ttf_parser::GlyphId(gid))
                .unwrap()
        };

        // কি: the vowel sign is drawn first, and carries the cluster's text.
        let ki = shape(&fonts, "কি");
        assert_eq!(ki.len(), 2, "{ki:?}");
        assert!(name(ki[0].gid).starts_with("ivowelsign"), "{ki:?}");
        assert_eq!(ki[1].gid, nominal('ক'));
        assert_eq!((ki[0].text.as_str(), ki[1].text.as_str()), ("কি", ""));
        assert!(ki.iter().all(|g| g.font == FontId::Bengali));

        // ক্ষ: one conjunct glyph for three characters.
        let kss = shape(&fonts, "ক্ষ");
        assert_eq!(kss.len(), 1, "{kss:?}");
        assert_eq!(kss[0].text, "ক্ষ");
        assert_eq!(name(kss[0].gid), "kassabeng");

        // শ্রেণি: the e-sign moves before the whole conjunct শ্র, the i-sign before ণ.
        let shreni = shape(&fonts, "শ্রেণি");
        let names: Vec<&str> = shreni.iter().map(|g| name(g.gid)).collect();
        assert!(names[0].starts_with("evowelsign"), "{names:?}");
        assert!(names[2].starts_with("ivowelsign"), "{names:?}");
        let text: String = shreni.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(text, "শ্রেণি");

        // সিদ্ধান্ত: conjuncts দ্ধ and ন্ত, so fewer glyphs than characters.
        let word = "সিদ্ধান্ত";
        let siddhanta = shape(&fonts, word);
        assert!(siddhanta.len() < word.chars().count(), "{siddhanta:?}");
        assert!(name(siddhanta[0].gid).starts_with("ivowelsign"));
    }

    #[test]
    fn scripts_get_their_fonts_and_every_glyph_is_found() {
        let fonts = Fonts::load().unwrap();
        let runs = runs(&fonts, "আবেদন নং HS-2026-000123, তারিখ ২০২৬।");
        let fonts_of: Vec<(FontId, &str)> = runs.clone();
        assert_eq!(
            fonts_of,
            vec![
                (FontId::Bengali, "আবেদন নং "),
                (FontId::Latin, "HS-2026-000123, "),
                (FontId::Bengali, "তারিখ ২০২৬।"),
            ]
        );
        for letter in [english(), bengali()] {
            let mut all = vec![letter.heading, letter.title];
            all.extend(letter.paragraphs);
            for text in all {
                let glyphs = shape(&fonts, &plain(&text));
                assert!(glyphs.iter().all(|g| g.gid != 0), "a .notdef in {text:?}");
                let back: String = glyphs.iter().map(|g| g.text.as_str()).collect();
                assert_eq!(back, plain(&text));
            }
        }
    }

    #[test]
    fn a_stamped_letter_scans_on_every_page() {
        // The longest verification URL `CLEAR_BOTTOM_PT` is reckoned for: 122 bytes, the
        // most a 45-module code holds at level M.
        let url = format!("https://heritage-atlas.environments.kmc.example.in/verify/{SHA}");
        assert_eq!(url.len(), 122);
        assert_eq!(crate::documents::qr::encode(&url).unwrap().width, 45);
        let (en, bn) = long(12);
        let pdf = letter_pdf(&en, &bn).unwrap();
        for url in [URL, &url] {
            let copy = pdf::stamp(&pdf, &Stamp { url, ..stamp_of() }).unwrap();
            assert_eq!(pdf::stamped_original(&copy).as_deref(), Some(SHA));
            let text = pdf::extract_text(&copy).unwrap();
            assert!(text.pages.len() > 2, "{}", text.pages.len());
            for page in &text.pages {
                assert!(page.contains(LINE), "{page:?}");
            }
            assert!(text.pages[0].contains("HS-2026-000123"));
            assert!(text.pages.last().unwrap().contains("সিদ্ধান্ত"));

            let Some(pages) = rasterise(&copy, 150) else {
                return;
            };
            assert_eq!(pages.len(), text.pages.len());
            for (i, page) in pages.iter().enumerate() {
                let (w, h) = page.dimensions();
                assert_eq!(
                    decode_all(w as usize, h as usize, page.as_raw()),
                    vec![url.to_string()],
                    "page {}",
                    i + 1
                );
            }
        }
    }

    #[test]
    fn the_bottom_of_every_page_is_left_for_the_stamp() {
        // Full pages, so the last line of each is as low as the layout lets it go.
        let (en, bn) = long(12);
        let pdf = letter_pdf(&en, &bn).unwrap();
        let Some(pages) = rasterise(&pdf, 100) else {
            return;
        };
        assert!(pages.len() > 2);
        let band = (CLEAR_BOTTOM_PT * 100.0 / 72.0).ceil() as u32;
        let mut full = 0;
        for (i, page) in pages.iter().enumerate() {
            let (w, h) = page.dimensions();
            let inked = |rows: std::ops::Range<u32>, below: u8| {
                rows.flat_map(|y| (0..w).map(move |x| (x, y)))
                    .filter(|&(x, y)| page.get_pixel(x, y).0[0] < below)
                    .count()
            };
            assert_eq!(
                inked(h - band..h, 250),
                0,
                "page {}: ink in the bottom {band} px",
                i + 1
            );
            // Text within a line and a half of the band: the page was filled to the end.
            if inked(h - band - 40..h - band, 128) > 0 {
                full += 1;
            }
        }
        // The first page of each language runs over: unless those two are full, the test
        // proves nothing.
        assert!(full >= 2, "{full} full pages of {}", pages.len());
    }

    #[test]
    fn long_text_wraps_onto_more_pages() {
        let (en, bn) = long(30);
        let pdf = letter_pdf(&en, &bn).unwrap();
        let text = pdf::extract_text(&pdf).unwrap();
        assert!(text.pages.len() >= 6, "{} pages", text.pages.len());
        // The Bengali letter starts on a page of its own, after the English one ends.
        let first_bengali = text
            .pages
            .iter()
            .position(|p| p.contains("কলকাতা পৌর নিগম"))
            .unwrap();
        assert!(first_bengali >= 3);
        assert!(text.pages[first_bengali - 1].contains("Condition 30:"));
        assert!(!text.pages[first_bengali].contains("Condition"));
        // Nothing lost at the page breaks: every paragraph comes back whole.
        let all_en = words(&text.pages[..first_bengali].join("\n"));
        for p in &en.paragraphs {
            assert!(all_en.contains(&words(p)), "{p:?} lost");
        }
        let all_bn = words(&text.pages[first_bengali..].join("\n"));
        for p in &bn.paragraphs {
            assert!(all_bn.contains(&words(p)), "{p:?} lost");
        }
    }

    #[test]
    fn lines_keep_to_the_measure() {
        let fonts = Fonts::load().unwrap();
        let (en, bn) = long(10);
        let mut setter = Typesetter::new(&fonts);
        setter.letter(&en).unwrap();
        setter.letter(&bn).unwrap();
        let mut lines = 0;
        for page in &setter.pages {
            for line in &page.lines {
                let width: f64 = line.glyphs.iter().map(|g| g.advance * line.size).sum();
                assert!(width <= TEXT_W + 1e-6, "{width} pt wide");
                assert!(line.baseline - 0.5 * line.size > CLEAR_BOTTOM_PT);
                assert!(line.glyphs.first().is_none_or(|g| !g.space));
                assert!(line.glyphs.last().is_none_or(|g| !g.space));
                lines += 1;
            }
        }
        assert!(lines > 60, "{lines}");
    }

    #[test]
    fn a_word_longer_than_a_line_is_cut_between_clusters() {
        let fonts = Fonts::load().unwrap();
        let word = "সিদ্ধান্ত".repeat(40);
        let glyphs = shape(&fonts, &word);
        let max = TEXT_W / BODY_PT;
        let lines = break_lines(&glyphs, max);
        assert!(lines.len() > 2, "{lines:?}");
        for line in &lines {
            assert!(glyphs[line.start].cluster_start, "cut inside a cluster");
            let width: f64 = glyphs[line.clone()].iter().map(|g| g.advance).sum();
            assert!(width <= max);
        }
        assert_eq!(lines.last().unwrap().end, glyphs.len());

        // Through the PDF, the pieces join up again.
        let en = LetterText {
            paragraphs: vec!["x".repeat(400)],
            ..english()
        };
        let bn = LetterText {
            paragraphs: vec![word.clone()],
            ..bengali()
        };
        let text = pdf::extract_text(&letter_pdf(&en, &bn).unwrap()).unwrap();
        let joined = |page: &str| page.split_whitespace().collect::<String>();
        assert!(joined(&text.pages[0]).contains(&"x".repeat(400)));
        assert!(joined(&text.pages[1]).contains(&word));
    }

    #[test]
    fn too_much_text_is_an_error() {
        let big = LetterText {
            paragraphs: vec!["a".repeat(MAX_TEXT_BYTES)],
            ..english()
        };
        assert!(matches!(
            letter_pdf(&big, &bengali()),
            Err(PdfError::TooLarge(_))
        ));
        assert!(matches!(
            letter_pdf(&english(), &big),
            Err(PdfError::TooLarge(_))
        ));
        // Within the byte cap, but past the page cap: blank lines are lines.
        let blank = LetterText {
            paragraphs: vec![String::new(); 20_000],
            ..english()
        };
        assert!(matches!(
            letter_pdf(&blank, &bengali()),
            Err(PdfError::TooLarge(_))
        ));
        // The most text allowed, in long words, fits.
        let most = LetterText {
            heading: String::new(),
            title: String::new(),
            paragraphs: vec!["Jorasanko ".repeat((MAX_TEXT_BYTES - 1) / 10)],
        };
        let pdf = letter_pdf(&most, &bengali()).unwrap();
        assert!(pdf::page_count(&pdf).unwrap() <= MAX_PAGES);
    }

    #[test]
    fn odd_text_does_not_break_it() {
        let odd = LetterText {
            heading: String::new(),
            title: "\t\n\u{0}".into(),
            paragraphs: vec![
                String::new(),
                "  tabs\tand\r\nnewlines  ".into(),
                // A stray vowel sign, joiners, an emoji, Devanagari and CJK no font here has.
                "ি র\u{200D}্য ক\u{200C}ষ 🏛 नमस्ते 加尔各答 ".into(),
            ],
        };
        let pdf = letter_pdf(&odd, &odd).unwrap();
        let text = pdf::extract_text(&pdf).unwrap();
        assert_eq!(text.pages.len(), 2);
        assert!(text.pages[0].contains("tabs and newlines"), "{text:?}");
        // Glyphs no font has are still text, even drawn as boxes.
        assert!(text.pages[0].contains("加尔各答"), "{text:?}");
        let empty = LetterText::default();
        assert_eq!(
            pdf::page_count(&letter_pdf(&empty, &empty).unwrap()).unwrap(),
            2
        );
    }

    #[test]
    fn same_input_same_bytes() {
        let pdf = letter_pdf(&english(), &bengali()).unwrap();
        assert_eq!(pdf, letter_pdf(&english(), &bengali()).unwrap());
        let other = LetterText {
            title: "Heritage sanction: refused".into(),
            ..english()
        };
        assert_ne!(pdf, letter_pdf(&other, &bengali()).unwrap());
        // Subsets, and so a letter, stay small: the fonts are 500 and 200 KB whole.
        assert!(pdf.len() < 60_000, "{} bytes", pdf.len());
    }

    /// Letters, signs and digits of both scripts, in any order: malformed Bengali (a vowel
    /// sign after a space, two viramas) included, which HarfBuzz answers with dotted circles.
    const ALPHABET: &str = "কখগঘঙচছজঝঞটঠডঢণতথদধনপফবভমযরলশষসহড়য়ৎংঃঁঅআইউএঐওঔ\
                            ািীুূৃেৈোৌ্০১২৩৯।abcfiklmnoqrstwxyzAHKQTVW0129-,.():/&";

    fn word() -> impl Strategy<Value = String> {
        let chars: Vec<char> = ALPHABET.chars().collect();
        proptest::collection::vec(proptest::sample::select(chars), 1..12)
            .prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn any_mixed_text_comes_back(words_in in proptest::collection::vec(word(), 1..60)) {
            let paragraph = words_in.join(" ");
            let letter = LetterText {
                paragraphs: vec![paragraph.clone()],
                ..LetterText::default()
            };
            let pdf = letter_pdf(&letter, &letter).unwrap();
            let text = pdf::extract_text(&pdf).unwrap();
            prop_assert_eq!(text.pages.len(), 2);
            for page in &text.pages {
                prop_assert!(
                    words(page).contains(&words(&paragraph)),
                    "{:?} came back as {:?}", paragraph, page
                );
            }
        }
    }
}
