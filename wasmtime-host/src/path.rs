//! Where the built component is found.

use std::path::{Path, PathBuf};

/// Environment variable that overrides [`default_component_path`].
pub const COMPONENT_PATH_ENV: &str = "WASM_OTLP_COMPONENT";

/// The component `just build-component` produces: `dist/wasm_otlp_tracing.wasm` at the
/// workspace root, unless the environment variable [`COMPONENT_PATH_ENV`] names another file.
pub fn default_component_path() -> PathBuf {
    match std::env::var_os(COMPONENT_PATH_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => {
            let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
            let workspace = crate_dir.parent().unwrap_or(crate_dir);
            workspace.join("dist").join("wasm_otlp_tracing.wasm")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_path_is_dist_at_the_workspace_root_unless_overridden() {
        let path = default_component_path();
        match std::env::var_os(COMPONENT_PATH_ENV) {
            Some(overridden) if !overridden.is_empty() => {
                assert_eq!(path, PathBuf::from(overridden))
            }
            _ => {
                assert!(
                    path.ends_with("dist/wasm_otlp_tracing.wasm"),
                    "{}",
                    path.display()
                );
                let workspace = path.parent().and_then(Path::parent).expect("two levels up");
                assert!(
                    workspace.join("Cargo.toml").is_file(),
                    "{}",
                    workspace.display()
                );
                assert!(
                    workspace.join("wit/tracing.wit").is_file(),
                    "{}",
                    workspace.display()
                );
            }
        }
    }
}
