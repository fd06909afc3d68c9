//! Semantic checks of an inventory beyond what the YAML types enforce.
