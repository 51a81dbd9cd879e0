//! Schedule expressions (placeholder).
