//! Reading an inventory file: YAML parsing with line/column errors.

use super::Inventory;
use anyhow::{Context, Result};
use std::path::Path;

/// Load and validate the inventory at `path`.
pub fn load(path: &Path) -> Result<Inventory> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read inventory {}", path.display()))?;
    let mut inv: Inventory = serde_yaml::from_str(&text)
        .with_context(|| format!("invalid inventory {}", path.display()))?;
    inv.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(inv)
}
