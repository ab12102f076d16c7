//! Finding a font for PDF and PNG text.
