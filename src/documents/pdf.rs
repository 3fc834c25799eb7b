//! Placeholder until the pdf branch lands.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("not a readable PDF: {0}")]
    Unreadable(String),
    #[error("{0}")]
    Unsupported(String),
}
pub struct PdfText {
    pub pages: Vec<String>,
}
pub fn extract_text(_bytes: &[u8]) -> Result<PdfText, PdfError> {
    Err(PdfError::Unsupported("pending".into()))
}
pub struct Stamp<'a> {
    pub url: &'a str,
    pub line: &'a str,
    pub original_sha256: &'a str,
}
pub fn stamp(_pdf: &[u8], _s: &Stamp) -> Result<Vec<u8>, PdfError> {
    Err(PdfError::Unsupported("pending".into()))
}
pub fn image_to_pdf(_image: &[u8], _media_type: &str, _s: &Stamp) -> Result<Vec<u8>, PdfError> {
    Err(PdfError::Unsupported("pending".into()))
}
pub fn stamped_original(_bytes: &[u8]) -> Option<String> {
    None
}
