pub mod pdf;
pub mod qr;
