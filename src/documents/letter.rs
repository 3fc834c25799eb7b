//! TEMPORARY stub until the letter branch lands.
use super::pdf::PdfError;
pub struct LetterText {
    pub heading: String,
    pub title: String,
    pub paragraphs: Vec<String>,
}
pub fn letter_pdf(en: &LetterText, _bn: &LetterText) -> Result<Vec<u8>, PdfError> {
    let _ = (&en.heading, &en.title, &en.paragraphs);
    Err(PdfError::Unsupported("letters are not built yet".into()))
}
