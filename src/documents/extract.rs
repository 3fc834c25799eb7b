//! Getting a document's text, in the background. A PDF's own text layer is read by
//! [`super::pdf::extract_text`] in a child process of ours (`heritage-atlas documents
//! read-pdf FILE`), so a hostile or broken PDF can at worst kill that child: it runs under
//! a time limit and a memory limit. Pages without text (scans) and images are read by
//! Tesseract (Debian's `tesseract-ocr` with `tesseract-ocr-ben`), PDF pages rendered
//! first by Poppler's `pdftoppm`; each tool is a child under the same limits.
//!
//! Jobs live in the database (`document_text`): a worker claims one, reports pages done,
//! and writes the text into the index when it finishes; a job cut short by a stop is
//! queued again at the next start. A failed attempt is retried with backoff, three times.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::Notify;

use super::TextSource;
use crate::blobs::BlobStore;
use crate::store::{Store, TextJob};

/// How long one child may run.
const PDF_TIMEOUT: Duration = Duration::from_secs(120);
const PAGE_TIMEOUT: Duration = Duration::from_secs(180);
/// Address space allowed to one child.
const CHILD_MEMORY: u64 = 2 << 30;
/// Pages read by OCR at most (the rest of a longer scan is left unread, and said so).
pub const MAX_OCR_PAGES: usize = 300;
/// Text kept for one document, in bytes.
pub const MAX_TEXT_BYTES: usize = 4 << 20;
/// A page with fewer letters than this in its text layer is read by OCR.
const MIN_PAGE_LETTERS: usize = 20;
/// Attempts before a job is failed for good.
const MAX_ATTEMPTS: i64 = 3;

/// The Tesseract models for a document's language.
pub fn ocr_languages(language: Option<&str>) -> &'static str {
    match language {
        Some("en") => "eng",
        Some("bn") => "ben+eng",
        _ => "ben+eng",
    }
}

/// What was read.
#[derive(Debug, Clone)]
pub struct Text {
    pub source: TextSource,
    pub pages: Vec<String>,
}

impl Text {
    /// The pages as one text, bounded.
    pub fn joined(&self) -> String {
        let mut s = self.pages.join("\n\u{c}\n");
        if s.len() > MAX_TEXT_BYTES {
            let mut cut = MAX_TEXT_BYTES;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
        }
        s
    }
}

/// Reads text with outside programs: our own binary (for PDF text layers), `pdftoppm`,
/// `pdfinfo` and `tesseract`.
#[derive(Debug, Clone)]
pub struct Reader {
    /// The heritage-atlas binary, run as `documents read-pdf FILE`.
    pub exe: PathBuf,
}

impl Reader {
    pub fn new(exe: Option<PathBuf>) -> Reader {
        let exe = exe
            .or_else(|| std::env::current_exe().ok())
            .unwrap_or_else(|| PathBuf::from("heritage-atlas"));
        Reader { exe }
    }

    /// The text of a stored file. `progress(done, pages)` is called as pages are read.
    pub async fn read(
        &self,
        file: &Path,
        media_type: &str,
        language: Option<&str>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Text, String> {
        let langs = ocr_languages(language);
        if media_type != "application/pdf" {
            progress(0, 1);
            let mut text = tesseract(file, langs).await?;
            if needs_second_look(&text, langs) {
                let tmp = tempdir()?;
                let smaller = tmp.path().join("second.png");
                if rescale(file, &smaller).await.is_ok() {
                    text = union(text, tesseract(&smaller, langs).await?);
                }
            }
            progress(1, 1);
            let source = if text.trim().is_empty() {
                TextSource::None
            } else {
                TextSource::Ocr
            };
            return Ok(Text {
                source,
                pages: vec![text],
            });
        }
        let layer = match self.pdf_layer(file).await {
            Ok(pages) => pages,
            // A PDF our reader cannot parse may still render: read it all by OCR.
            Err(e) => {
                let n = pdf_pages(file)
                    .await
                    .map_err(|p| format!("{e}; and pdfinfo: {p}"))?;
                vec![String::new(); n]
            }
        };
        let total = layer.len();
        let scanned: Vec<usize> = (0..total)
            .filter(|&i| letters(&layer[i]) < MIN_PAGE_LETTERS || garbled_bengali(&layer[i]))
            .take(MAX_OCR_PAGES)
            .collect();
        let kept: Vec<String> = scanned.iter().map(|&i| layer[i].clone()).collect();
        let mut pages = layer;
        for &i in &scanned {
            pages[i].clear();
        }
        progress(total - scanned.len(), total);
        let tmp = tempdir()?;
        for (k, &i) in scanned.iter().enumerate() {
            let png = render_page(file, i + 1, tmp.path(), 300).await?;
            pages[i] = tesseract(&png, langs).await?;
            let _ = std::fs::remove_file(&png);
            if needs_second_look(&pages[i], langs) {
                let png = render_page(file, i + 1, tmp.path(), 200).await?;
                let again = tesseract(&png, langs).await?;
                pages[i] = union(std::mem::take(&mut pages[i]), again);
                let _ = std::fs::remove_file(&png);
            }
            progress(total - scanned.len() + k + 1, total);
        }
        // A garbled layer that OCR could not read either is better than nothing.
        for (&i, layer_text) in scanned.iter().zip(&kept) {
            if pages[i].trim().is_empty() {
                pages[i] = layer_text.clone();
            }
        }
        let source = if scanned.iter().any(|&i| !pages[i].trim().is_empty()) {
            TextSource::Ocr
        } else if pages.iter().any(|p| !p.trim().is_empty()) {
            TextSource::Pdf
        } else {
            TextSource::None
        };
        Ok(Text { source, pages })
    }

    /// The PDF's text layer, page by page, read by a child process of ours.
    async fn pdf_layer(&self, file: &Path) -> Result<Vec<String>, String> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(["documents", "read-pdf"]).arg(file);
        let out = run(cmd, PDF_TIMEOUT, "reading the PDF's text").await?;
        serde_json::from_slice::<Vec<String>>(&out)
            .map_err(|e| format!("reading the PDF's text: bad answer from the reader: {e}"))
    }
}

/// The body of `heritage-atlas documents read-pdf FILE`: the text layer as a JSON array
/// of pages on standard output.
pub fn read_pdf_main(file: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file)?;
    let text = super::pdf::extract_text(&bytes)?;
    serde_json::to_writer(std::io::stdout().lock(), &text.pages)?;
    Ok(())
}

/// Tesseract's Bengali model reads some typefaces at one size and drops whole lines at
/// another (measured: Noto Sans Bengali at 28 px read, at 20, 40 and 80 px dropped). A
/// page read for Bengali that gave almost no Bengali gets a second look at two thirds
/// the scale, and the two readings are kept together (the index only gains words).
fn needs_second_look(text: &str, langs: &str) -> bool {
    langs.contains("ben")
        && text
            .chars()
            .filter(|c| ('\u{0980}'..='\u{09FF}').contains(c))
            .count()
            < MIN_PAGE_LETTERS
}

/// Two readings of one page, the second only if it differs.
fn union(a: String, b: String) -> String {
    if b.trim().is_empty() || a.trim() == b.trim() {
        a
    } else if a.trim().is_empty() {
        b
    } else {
        format!("{a}\n{b}")
    }
}

/// An image at two thirds its size, as grey PNG (decoded within a memory bound).
async fn rescale(file: &Path, out: &Path) -> Result<(), String> {
    let (file, out) = (file.to_path_buf(), out.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let mut reader = image::ImageReader::open(&file)
            .and_then(|r| r.with_guessed_format())
            .map_err(|e| e.to_string())?;
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(512 << 20);
        reader.limits(limits);
        let img = reader.decode().map_err(|e| e.to_string())?.to_luma8();
        let (w, h) = (img.width() * 2 / 3, img.height() * 2 / 3);
        let small = image::imageops::resize(
            &img,
            w.max(1),
            h.max(1),
            image::imageops::FilterType::Lanczos3,
        );
        small.save(&out).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Whether a page's Bengali text layer is in visual rather than logical order, as many
/// PDF makers write it (Chromium among them): vowel signs drawn before their consonant
/// come out before it (`িনকািশ` for `নিকাশি`) and conjuncts are lost. In real Bengali a
/// dependent vowel sign never begins a word; a layer where they do is read by OCR
/// instead (measured on the generated corpus: Bengali text-PDF recall 41.7% from such
/// layers, 92.5% by OCR).
pub fn garbled_bengali(page: &str) -> bool {
    let mut words = 0usize;
    let mut bad = 0usize;
    for w in page.split(|c: char| !(c.is_alphanumeric() || ('\u{0980}'..='\u{09FF}').contains(&c)))
    {
        let Some(first) = w.chars().next() else {
            continue;
        };
        if !('\u{0980}'..='\u{09FF}').contains(&first) {
            continue;
        }
        words += 1;
        // Dependent vowel signs, virama, and the length mark.
        if matches!(first, '\u{09BE}'..='\u{09CD}' | '\u{09D7}') {
            bad += 1;
        }
    }
    bad >= 2 && bad * 25 >= words
}

fn letters(s: &str) -> usize {
    s.chars().filter(|c| c.is_alphanumeric()).count()
}

fn tempdir() -> Result<TempDir, String> {
    let dir = std::env::temp_dir().join(format!(
        "heritage-atlas-ocr-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("temporary directory: {e}"))?;
    Ok(TempDir(dir))
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a child under the time and memory limits; its standard output, or why not.
async fn run(mut cmd: Command, timeout: Duration, what: &str) -> Result<Vec<u8>, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Tesseract would take every core for one page; workers are the parallelism.
        .env("OMP_THREAD_LIMIT", "1");
    // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: CHILD_MEMORY as libc::rlim_t,
                rlim_max: CHILD_MEMORY as libc::rlim_t,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{what}: {program} is not installed (scripts/install-deps.sh installs it)")
        } else {
            format!("{what}: cannot start {program}: {e}")
        }
    })?;
    let out = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| format!("{what}: {program} took longer than {}s", timeout.as_secs()))?
        .map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let err: String = err.trim().chars().take(300).collect();
        return Err(format!("{what}: {program} failed ({}): {err}", out.status));
    }
    Ok(out.stdout)
}

async fn tesseract(image: &Path, langs: &str) -> Result<String, String> {
    let mut cmd = Command::new("tesseract");
    cmd.arg(image)
        .arg("stdout")
        .args(["-l", langs, "--psm", "3"]);
    let out = run(cmd, PAGE_TIMEOUT, "OCR").await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Renders one page (1-based) to a grey PNG.
async fn render_page(file: &Path, page: usize, dir: &Path, dpi: u32) -> Result<PathBuf, String> {
    let prefix = dir.join(format!("p{page}-{dpi}"));
    let mut cmd = Command::new("pdftoppm");
    cmd.args(["-r", &dpi.to_string(), "-gray", "-png", "-singlefile"])
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .arg(file)
        .arg(&prefix);
    run(cmd, PAGE_TIMEOUT, "rendering a page").await?;
    Ok(prefix.with_extension("png"))
}

async fn pdf_pages(file: &Path) -> Result<usize, String> {
    let mut cmd = Command::new("pdfinfo");
    cmd.arg(file);
    let out = run(cmd, PDF_TIMEOUT, "counting pages").await?;
    String::from_utf8_lossy(&out)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .filter(|&n: &usize| n > 0)
        .ok_or_else(|| "counting pages: pdfinfo gave no page count".into())
}

/// Works through the text jobs: claims one, reads it, writes the text; sleeps when there
/// is none until woken or a few seconds pass.
#[derive(Clone)]
pub struct Worker {
    pub store: Store,
    pub blobs: BlobStore,
    pub reader: Reader,
    pub wake: Arc<Notify>,
}

impl Worker {
    /// Runs forever (the server's background task).
    pub async fn run(self) {
        loop {
            match self.step().await {
                Ok(true) => {}
                Ok(false) => {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), self.wake.notified()).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "document text worker");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    }

    /// Does one job if one is due. `Ok(false)`: none was.
    pub async fn step(&self) -> Result<bool, crate::store::StoreError> {
        let now = crate::model::now_rfc3339();
        let Some(job) = self.store.claim_text_job(&now).await? else {
            return Ok(false);
        };
        self.process(job).await?;
        Ok(true)
    }

    async fn process(&self, job: TextJob) -> Result<(), crate::store::StoreError> {
        let id = job.document_id;
        let file = self.blobs.path_of_async(&job.sha256).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, usize)>();
        let store = self.store.clone();
        let progress_writer = tokio::spawn(async move {
            while let Some((done, total)) = rx.recv().await {
                let _ = store
                    .text_progress(id, done as i64, total as i64, &crate::model::now_rfc3339())
                    .await;
            }
        });
        let report = move |done: usize, total: usize| {
            let _ = tx.send((done, total));
        };
        let read = match file {
            Some(f) => {
                self.reader
                    .read(&f, &job.media_type, job.language.as_deref(), &report)
                    .await
            }
            None => Err("the document's file is missing from the store".into()),
        };
        drop(report);
        let _ = progress_writer.await;
        let now = crate::model::now_rfc3339();
        match read {
            Ok(text) => {
                let pages = text.pages.len() as i64;
                self.store
                    .finish_text_job(id, text.source, pages, &text.joined(), &now)
                    .await
            }
            Err(e) => {
                tracing::warn!(document = %job.sha256, error = %e, attempt = job.attempts, "document text");
                let retry = (job.attempts < MAX_ATTEMPTS).then(|| {
                    let wait = 30i64 << job.attempts.clamp(0, 6);
                    crate::model::rfc3339(
                        time::OffsetDateTime::now_utc() + time::Duration::seconds(wait),
                    )
                });
                self.store
                    .fail_text_job(id, &e, retry.as_deref(), &now)
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bengali_layer_in_visual_order_is_garbled() {
        // As Chromium's PDFs give it, and as it is.
        assert!(garbled_bengali("সমীক্ষায় িনকািশ ব ব ার মরামত িবভাগ েথেক"));
        assert!(!garbled_bengali("সমীক্ষায় নিকাশি ব্যবস্থার মেরামত বিভাগ থেকে"));
        assert!(!garbled_bengali("Notice on the repair of the Town Hall"));
    }
}
